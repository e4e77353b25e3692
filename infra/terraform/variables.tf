variable "region" {
  description = "AWS region of the tables."
  type        = string
  default     = "us-east-1"
}

variable "users_table_name" {
  description = "Name of the users/accounts/positions/jobs table."
  type        = string
  default     = "alex-users-data"
}

variable "instruments_table_name" {
  description = "Name of the instruments and price history table."
  type        = string
  default     = "alex-instruments"
}

variable "pitr_enabled" {
  description = "Point-in-time recovery (35 days of continuous backups) on both tables."
  type        = bool
  default     = true
}

variable "lambda_role_name" {
  description = "Name of the Lambda execution role that may use the tables."
  type        = string
  default     = "alex-dynamodb-lambda"
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default = {
    Project   = "alex"
    Component = "alexdb"
  }
}

variable "chat_table_name" {
  description = "Name of the chat sessions table."
  type        = string
  default     = "chat_sessions"
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic notified by the chat table's alarms (empty: alarms without actions)."
  type        = string
  default     = ""
}

variable "user_errors_threshold" {
  description = "UserErrors per 5 minutes above which the user-errors alarm fires."
  type        = number
  default     = 10
}

variable "speed_table_prefix" {
  description = "Put in front of the speed-layer table names (alert_configurations, realtime_ticks, alert_notifications_history)."
  type        = string
  default     = ""
}

variable "ingest_package" {
  description = "Path of the Lambda zip made by scripts/build-lambda; empty: no Kinesis feed is created."
  type        = string
  default     = ""
}

variable "ingest_stream_name" {
  description = "Name of the Kinesis stream of ticks."
  type        = string
  default     = "alex-ticks"
}

variable "ingest_function_name" {
  description = "Name of the Lambda function that ingests the stream."
  type        = string
  default     = "alex-ingest-ticks"
}

variable "ingest_concurrency" {
  description = "Reserved concurrent executions of the ingest function (at least the stream's shard count)."
  type        = number
  default     = 10
}

variable "ingest_parallelization" {
  description = "Batches of one shard processed at once (1-10). Lambda keeps records of one partition key (a symbol) in order across them."
  type        = number
  default     = 2
  validation {
    condition     = var.ingest_parallelization >= 1 && var.ingest_parallelization <= 10
    error_message = "Lambda's parallelization factor is 1 to 10."
  }
}

variable "ingest_max_retries" {
  description = "Retries of a failing batch before its description goes to the failures queue."
  type        = number
  default     = 5
}

variable "alert_sns_topic_arn" {
  description = "SNS topic for alerts with notification_method sns (empty: such deliveries are recorded as failed)."
  type        = string
  default     = ""
}

variable "alert_webhook_url" {
  description = "URL that receives alerts with notification_method webhook (empty: recorded as failed)."
  type        = string
  default     = ""
}

variable "alert_webhook_secret" {
  description = "Shared secret of the webhook endpoint: each delivery carries its HMAC-SHA256 signature (empty: unsigned)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "ticks_bucket_name" {
  description = "Name of the S3 bucket of raw tick chunks (empty: a unique name beginning alexdb-ticks-)."
  type        = string
  default     = ""
}
