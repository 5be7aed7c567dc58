"""The product's rules: every write and every outbound call goes through here."""
