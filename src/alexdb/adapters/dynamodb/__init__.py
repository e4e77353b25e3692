"""The Amazon DynamoDB backend."""
