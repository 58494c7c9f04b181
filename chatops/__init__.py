"""Running incidents from chat: one core (commands, the incident channel's life, message
formats) and one adapter per chat (Slack's Web API through `slack_sdk`, Mattermost's REST API
v4). Everything the portal says in a chat is a `delivery.Delivery` row of the "chat" purpose;
every command acts through the incidents / oncall services as the chat user's mapped person."""
