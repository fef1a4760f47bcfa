import { z } from "zod";
import { type AnyRoute, defineRoute } from "../platform/route.js";
import { CreatedToken, CreateTokenInput, createToken, listTokens, revokeToken, TokenInfo } from "./tokens.js";

export function tokenRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: "POST",
      url: "/api/v1/tokens",
      tag: "auth",
      summary: "Create an API token; the secret is in this answer only",
      body: CreateTokenInput,
      response: CreatedToken,
      status: 201,
      handler: async ({ ctx, body }) => createToken({ ctx, input: body }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/tokens",
      tag: "auth",
      summary: "API tokens (never their secrets)",
      response: z.object({ tokens: z.array(TokenInfo) }),
      handler: async ({ ctx }) => ({ tokens: await listTokens({ ctx }) }),
    }),
    defineRoute({
      method: "DELETE",
      url: "/api/v1/tokens/:idOrName",
      tag: "auth",
      summary: "Revoke a token by id, or by name when the name is unique",
      params: z.object({ idOrName: z.string().min(1) }),
      response: TokenInfo,
      handler: async ({ ctx, params }) => revokeToken({ ctx, input: params }),
    }),
  ];
}
