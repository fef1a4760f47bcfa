/**
 * Row types of the state database, as Kysely sees them. Times are epoch milliseconds (bigint columns, read
 * back as numbers); structured values are JSON text so both dialects store them alike.
 */

export interface TeamsTable {
  name: string;
  display_name: string | null;
  description: string | null;
  spec: string;
  updated_at: number;
}

export interface UsersTable {
  name: string;
  email: string | null;
  display_name: string | null;
  role: string;
  spec: string;
  updated_at: number;
}

export interface TeamMembersTable {
  team_name: string;
  user_name: string;
}

export interface ServicesTable {
  name: string;
  owner_team: string;
  tier: number;
  description: string | null;
  runbook_url: string | null;
  dashboard_url: string | null;
  repository_url: string | null;
  spec: string;
  updated_at: number;
}

export interface ServiceDependenciesTable {
  service_name: string;
  depends_on: string;
}

export interface ConfigObjectsTable {
  kind: string;
  name: string;
  /** The normalised document (apiVersion, kind, metadata, spec) as JSON. */
  document: string;
  digest: string;
  revision: number;
  updated_at: number;
}

export interface ConfigRevisionsTable {
  revision: number;
  created_at: number;
  actor: string;
  source: string;
  content_hash: string;
  documents: string;
  diff: string;
  summary: string;
  rollback_of: number | null;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  token_hash: string;
  prefix: string;
  role: string;
  user_name: string | null;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  seq: number;
  at: number;
  actor_kind: string;
  actor_name: string;
  action: string;
  object_kind: string;
  object_name: string;
  before_digest: string | null;
  after_digest: string | null;
  details: string | null;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface ChecksTable {
  name: string;
  service_name: string;
  type: string;
  interval_ms: number;
  spec: string;
  updated_at: number;
}

export interface CheckStatesTable {
  check_name: string;
  status: string;
  since: number;
  consecutive_failures: number;
  consecutive_successes: number;
  last_run_at: number | null;
  last_ok: number | null;
  last_duration_ms: number | null;
  last_reason: string | null;
  heartbeat_token: string | null;
  updated_at: number;
}

export interface CheckResultsTable {
  id: string;
  check_name: string;
  at: number;
  ok: number;
  degraded: number;
  duration_ms: number;
  attempts: number;
  status_code: number | null;
  reason: string | null;
  /** JSON: the conditions and their outcomes. */
  conditions: string | null;
  /** JSON: per-phase timings in milliseconds. */
  timings: string | null;
}

export interface CheckRollupsTable {
  check_name: string;
  /** "1m", "1h" or "1d". */
  resolution: string;
  start: number;
  runs: number;
  failures: number;
  degraded: number;
  latency_min: number | null;
  latency_sum: number;
  latency_max: number | null;
  /** JSON: sparse log-bucket counts, for percentiles that survive merging. */
  latency_histogram: string;
}

export interface CheckEventsTable {
  id: string;
  check_name: string;
  at: number;
  from_status: string;
  to_status: string;
  reason: string | null;
}

export interface Schema {
  teams: TeamsTable;
  users: UsersTable;
  team_members: TeamMembersTable;
  services: ServicesTable;
  service_dependencies: ServiceDependenciesTable;
  config_objects: ConfigObjectsTable;
  config_revisions: ConfigRevisionsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  checks: ChecksTable;
  check_states: CheckStatesTable;
  check_results: CheckResultsTable;
  check_rollups: CheckRollupsTable;
  check_events: CheckEventsTable;
  alerts: AlertsTable;
  alert_intake_log: AlertIntakeLogTable;
  silences: SilencesTable;
  alerting_state: AlertingStateTable;
  notification_outbox: NotificationOutboxTable;
  notification_requests: NotificationRequestsTable;
  notification_attempts: NotificationAttemptsTable;
}

export interface AlertIntakeLogTable {
  seq: number;
  at: number;
  /** JSON array of alerts table rows, each an array in column order. */
  alerts: string;
}

export interface AlertsTable {
  fingerprint: string;
  /** JSON object. */
  labels: string;
  annotations: string;
  starts_at: number;
  ends_at: number | null;
  generator_url: string | null;
  /** "api", "rules", "slo" or "checks". */
  source: string;
  received_at: number;
  updated_at: number;
}

export interface SilencesTable {
  id: string;
  /** JSON: Alertmanager matchers [{name, value, isRegex, isEqual}]. */
  matchers: string;
  starts_at: number;
  ends_at: number;
  created_by: string;
  comment: string;
  recurrence: string | null;
  updated_at: number;
}

export interface AlertingStateTable {
  key: string;
  /** JSON. */
  value: string;
  updated_at: number;
}

export interface NotificationOutboxTable {
  id: string;
  idempotency_key: string;
  receiver: string;
  /** e.g. "webhook_configs[0]". */
  integration: string;
  /** The receiver and aggregation group, hashed (notificationGroupHash); null in rows older than 0004. */
  group_hash: string | null;
  /** "pending", "delivered" or "dead". */
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/**
 * Each outbox row's request (stored-request.ts), written with the row and apart from it: the row changes at
 * every claim and attempt, the request (1 KB to 1 MB) only when an operator retries it.
 */
export interface NotificationRequestsTable {
  outbox_id: string;
  request: string;
}

export interface NotificationAttemptsTable {
  id: string;
  outbox_id: string;
  at: number;
  duration_ms: number;
  ok: number;
  status_code: number | null;
  response: string | null;
}
