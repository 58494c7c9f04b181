"""This app's tasks, for the modules the tasks module imports (services): bound to the
tasks in StatuspageConfig.ready(), sent after commit through delivery.durable (a broker that is
down only delays the work: the sweeps pick it up)."""

from delivery.durable import LateTask

maintenance_step_later = LateTask("status page maintenance step")
