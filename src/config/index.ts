/**
 * Configuration as code. Every kind of object (Team, Service, User, and the kinds later domains add) is a
 * YAML document `apiVersion/kind/metadata/spec`, validated with positions, planned field by field, and
 * applied all or nothing as a numbered revision that can be rolled back. Domains describe their kinds with
 * defineKind(); this domain owns parsing, validation, diff, apply, revisions and the JSON Schema.
 */
export { ConfigService } from "./config-service.js";
export type { ApplyResult, ApplySource, RevisionDetail, RevisionSummary } from "./config-service.js";
export { defineKind, KindRegistry, Metadata, ObjectName } from "./kinds.js";
export type { AnyKind, ConfigObject, KindDefinition, Reference } from "./kinds.js";
export { configJsonSchema } from "./json-schema.js";
export type { FieldChange, ObjectChange, Plan } from "./plan.js";
export { formatProblem, hasErrors } from "./problems.js";
export type { ConfigProblem } from "./problems.js";
export { readConfigPath } from "./sources.js";
export type { ConfigSource } from "./sources.js";
export { ApplyBody, configRoutes } from "./config-routes.js";
export { translatedDocument } from "./document-translator.js";
export type { DocumentTranslator, Origin, RawLookup, Translation } from "./document-translator.js";
export { parseYamlSources, type Position, type RawDocument } from "./parse-yaml.js";
export type { DocPath } from "./kinds.js";
export { parseWithPositions } from "./validate.js";
export { didYouMean } from "./problems.js";
