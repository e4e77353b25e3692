# Aurora Serverless v2 (PostgreSQL) with the RDS Data API: the seed's deployment of the SQL store, reached
# over HTTPS with no VPC for the Lambdas (alexdb.connect("aurora-data-api://<cluster arn>?secret_arn=...")).
# RDS keeps the master password in Secrets Manager (rotated by RDS, encrypted with the module's key).

variable "aurora_cluster_name" {
  description = "Name of the Aurora Serverless v2 cluster (Data API enabled)."
  type        = string
  default     = "alex-aurora"
}

variable "aurora_database_name" {
  description = "Database the Data API connects to."
  type        = string
  default     = "alex"
}

variable "aurora_subnet_group_name" {
  description = "DB subnet group of the cluster (the Lambdas need no VPC: they use the Data API)."
  type        = string
  default     = null
}

variable "aurora_max_capacity" {
  description = "Most Aurora capacity units the cluster scales to."
  type        = number
  default     = 4
}

resource "aws_rds_cluster" "aurora" {
  #checkov:skip=CKV2_AWS_8:Aurora keeps 35 days of continuous backups itself (backup_retention_period, restore to any second); an AWS Backup plan would copy what it already keeps.
  cluster_identifier                  = var.aurora_cluster_name
  engine                              = "aurora-postgresql"
  engine_mode                         = "provisioned"
  engine_version                      = "16.4"
  database_name                       = var.aurora_database_name
  master_username                     = "alexdb"
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = aws_kms_key.tables.arn
  enable_http_endpoint                = true
  storage_encrypted                   = true
  kms_key_id                          = aws_kms_key.tables.arn
  iam_database_authentication_enabled = true
  deletion_protection                 = true
  backup_retention_period             = 35
  copy_tags_to_snapshot               = true
  db_subnet_group_name                = var.aurora_subnet_group_name
  db_cluster_parameter_group_name     = aws_rds_cluster_parameter_group.aurora.name
  enabled_cloudwatch_logs_exports     = ["postgresql"]
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${var.aurora_cluster_name}-final"

  serverlessv2_scaling_configuration {
    min_capacity = 0.5
    max_capacity = var.aurora_max_capacity
  }

  tags = var.tags
}

# Statement logging of DDL and slow statements (a query log for audits, not of every read).
resource "aws_rds_cluster_parameter_group" "aurora" {
  name   = "${var.aurora_cluster_name}-params"
  family = "aurora-postgresql16"

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  tags = var.tags
}

resource "aws_rds_cluster_instance" "aurora" {
  identifier                      = "${var.aurora_cluster_name}-1"
  cluster_identifier              = aws_rds_cluster.aurora.id
  instance_class                  = "db.serverless"
  engine                          = aws_rds_cluster.aurora.engine
  engine_version                  = aws_rds_cluster.aurora.engine_version
  auto_minor_version_upgrade      = true
  performance_insights_enabled    = true
  performance_insights_kms_key_id = aws_kms_key.tables.arn
  monitoring_interval             = 60
  monitoring_role_arn             = aws_iam_role.rds_monitoring.arn
  publicly_accessible             = false
  tags                            = var.tags
}

resource "aws_iam_role" "rds_monitoring" {
  name = "${var.aurora_cluster_name}-monitoring"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "monitoring.rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

# Exactly what the Data API driver calls (alexdb.adapters.sql.data_api.DATA_API_ACTIONS), on this cluster,
# and the cluster's secret (read, and decrypted with the module's key).
data "aws_iam_policy_document" "aurora" {
  statement {
    sid = "AlexdbDataApi"
    actions = [
      "rds-data:BatchExecuteStatement",
      "rds-data:BeginTransaction",
      "rds-data:CommitTransaction",
      "rds-data:ExecuteStatement",
      "rds-data:RollbackTransaction",
    ]
    resources = [aws_rds_cluster.aurora.arn]
  }

  statement {
    sid       = "AlexdbDataApiSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_rds_cluster.aurora.master_user_secret[0].secret_arn]
  }

  statement {
    sid       = "AlexdbDataApiSecretKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.tables.arn]
  }
}

resource "aws_iam_role_policy" "aurora" {
  name   = "alexdb-aurora-data-api"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.aurora.json
}

output "aurora_env" {
  description = "The lines the original Alex package (and alexdb.connect()) read to reach the cluster."
  value = join("\n", [
    "AURORA_CLUSTER_ARN=${aws_rds_cluster.aurora.arn}",
    "AURORA_SECRET_ARN=${aws_rds_cluster.aurora.master_user_secret[0].secret_arn}",
    "AURORA_DATABASE=${var.aurora_database_name}",
    "DEFAULT_AWS_REGION=${var.region}",
  ])
}
