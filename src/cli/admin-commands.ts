import { createWriteStream } from "node:fs";
import type { Command } from "commander";
import type { AuditRecord, AuditVerification } from "../audit/index.js";
import type { CreatedToken, TokenInfo } from "../auth/index.js";
import type { ServiceView, TeamView } from "../catalog/index.js";
import { CliError, EXIT } from "./cli-error.js";
import type { NinesClient } from "./client.js";
import { type OutputFormat, print } from "./output.js";

type Globals = () => { client: NinesClient; output: OutputFormat };

export function registerTokenCommands(program: Command, globals: Globals): void {
  const token = program.command("token").description("create, list and revoke API tokens (admin)");
  token
    .command("create")
    .description("create a token; its secret is printed this once")
    .requiredOption("--name <name>", "what the token is for")
    .option("--role <role>", "viewer, responder, editor or admin", "viewer")
    .option("--expires-in-days <days>", "stop working after this many days")
    .option("--user <name>", "the User it acts for; it never exceeds that user's role")
    .action(async (options: { name: string; role: string; expiresInDays?: string; user?: string }) => {
      const { client, output } = globals();
      const created = await client.request<CreatedToken>("POST", "/api/v1/tokens", {
        name: options.name,
        role: options.role,
        ...(options.expiresInDays === undefined ? {} : { expiresInDays: Number(options.expiresInDays) }),
        ...(options.user === undefined ? {} : { userName: options.user }),
      });
      if (output === "json") return print("json", created);
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(
        `token "${created.name}" (${created.id}, role ${created.role}) created; the secret above is not shown again\n`,
      );
    });
  token
    .command("list")
    .description("list tokens (never their secrets)")
    .action(async () => {
      const { client, output } = globals();
      const { tokens } = await client.request<{ tokens: TokenInfo[] }>("GET", "/api/v1/tokens");
      print(
        output,
        tokens,
        tokens.map((t) => ({
          id: t.id,
          name: t.name,
          role: t.role,
          user: t.userName,
          prefix: t.prefix,
          expires: t.expiresAt,
          lastUsed: t.lastUsedAt,
          state: t.revokedAt
            ? "revoked"
            : t.expiresAt && Date.parse(t.expiresAt) <= Date.now()
              ? "expired"
              : "active",
        })),
      );
    });
  token
    .command("revoke")
    .description("revoke a token by id, or by name when the name is unique")
    .argument("<id-or-name>")
    .action(async (idOrName: string) => {
      const { client, output } = globals();
      const revoked = await client.request<TokenInfo>(
        "DELETE",
        `/api/v1/tokens/${encodeURIComponent(idOrName)}`,
      );
      if (output === "json") return print("json", revoked);
      process.stdout.write(`revoked token "${revoked.name}" (${revoked.id})\n`);
    });
}

export function registerAuditCommands(program: Command, globals: Globals): void {
  const audit = program.command("audit").description("verify and export the audit log");
  audit
    .command("verify")
    .description("recompute the hash chain; exit 1 and name the first broken record if it does not hold")
    .action(async () => {
      const { client, output } = globals();
      const result = await client.request<AuditVerification>("GET", "/api/v1/audit/verify");
      if (output === "json") print("json", result);
      if (!result.ok) {
        const broken = result.firstBroken;
        throw new CliError(`audit chain broken at record ${broken?.seq}: ${broken?.reason}`, EXIT.NEGATIVE);
      }
      if (output !== "json")
        process.stdout.write(`audit chain intact: ${result.records} records, head ${result.headHash}\n`);
    });
  audit
    .command("export")
    .description("write audit records as JSON lines, oldest first")
    .option("--since <date>", "ISO 8601 date or time, e.g. 2026-01-01")
    .option("--out <file>", "write to a file instead of standard output")
    .action(async (options: { since?: string; out?: string }) => {
      const { client } = globals();
      if (options.since !== undefined && Number.isNaN(Date.parse(options.since))) {
        throw new CliError(`--since "${options.since}" is not an ISO 8601 date or time`, EXIT.INVALID);
      }
      const out = options.out ? createWriteStream(options.out) : process.stdout;
      let afterSeq = 0;
      for (;;) {
        const params = new URLSearchParams({ afterSeq: String(afterSeq), limit: "1000" });
        if (options.since) params.set("since", new Date(Date.parse(options.since)).toISOString());
        const { records } = await client.request<{ records: AuditRecord[] }>(
          "GET",
          `/api/v1/audit?${params}`,
        );
        for (const record of records) out.write(`${JSON.stringify(record)}\n`);
        const last = records[records.length - 1];
        if (!last || records.length < 1000) break;
        afterSeq = last.seq;
      }
      if (out !== process.stdout) await new Promise<void>((resolve) => out.end(resolve));
    });
}

export function registerCatalogCommands(program: Command, globals: Globals): void {
  program
    .command("teams")
    .description("list teams")
    .action(async () => {
      const { client, output } = globals();
      const { teams } = await client.request<{ teams: TeamView[] }>("GET", "/api/v1/teams");
      print(
        output,
        teams,
        teams.map((t) => ({
          name: t.name,
          displayName: t.displayName,
          services: t.services,
          members: t.members,
        })),
      );
    });
  program
    .command("services")
    .description("list services")
    .option("--team <name>", "only this team's")
    .action(async (options: { team?: string }) => {
      const { client, output } = globals();
      const query = options.team ? `?team=${encodeURIComponent(options.team)}` : "";
      const { services } = await client.request<{ services: ServiceView[] }>(
        "GET",
        `/api/v1/services${query}`,
      );
      print(
        output,
        services,
        services.map((s) => ({ name: s.name, team: s.ownerTeam, tier: s.tier, dependsOn: s.dependsOn })),
      );
    });
}
