/**
 * The audit log: every mutation appends a record in the same transaction as the change, chained by SHA-256
 * so that altering, removing or inserting a record afterwards is detected by verifyAudit().
 */
export { appendAudit, GENESIS_HASH, listAudit, verifyAudit } from "./audit-log.js";
export type { AuditEntry, AuditRecord, AuditVerification } from "./audit-log.js";
export { auditRoutes } from "./audit-routes.js";
