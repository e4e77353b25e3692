output "users_table_arn" {
  description = "ARN of the users table."
  value       = aws_dynamodb_table.users.arn
}

output "instruments_table_arn" {
  description = "ARN of the instruments table."
  value       = aws_dynamodb_table.instruments.arn
}

output "chat_table_arn" {
  description = "ARN of the chat sessions table."
  value       = aws_dynamodb_table.chat.arn
}

output "lambda_role_arn" {
  description = "ARN of the Lambda execution role."
  value       = aws_iam_role.lambda.arn
}

output "env" {
  description = "Lines for the application's .env file."
  value       = <<-EOT
    ALEXDB_URL=dynamodb://
    AWS_REGION=${var.region}
    DYNAMODB_USERS_TABLE=${aws_dynamodb_table.users.name}
    DYNAMODB_INSTRUMENTS_TABLE=${aws_dynamodb_table.instruments.name}
    DYNAMODB_CHAT_TABLE=${aws_dynamodb_table.chat.name}
    ALEXDB_TICKS_BUCKET=${aws_s3_bucket.ticks.bucket}
  EOT
}

output "ticks_stream_name" {
  description = "The Kinesis stream to put ticks on (one JSON tick per record), when the feed is created."
  value       = one(aws_kinesis_stream.ticks[*].name)
}
