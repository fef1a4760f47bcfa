/**
 * Who may do what. API tokens (shown once, stored as hashes, with expiry and last use), the four roles
 * viewer < responder < editor < admin, and the permission table that every service function consults
 * through authorize(): the one place where roles are checked.
 */
export { authorize, can, PERMISSIONS, roleAtLeast } from "./permissions.js";
export type { Permission } from "./permissions.js";
export {
  authenticateToken,
  BOOTSTRAP_TOKEN_NAME,
  CreatedToken,
  CreateTokenInput,
  createToken,
  ensureBootstrapAdmin,
  listTokens,
  revokeToken,
  TokenInfo,
} from "./tokens.js";
export { tokenRoutes } from "./token-routes.js";
