import { createHmac } from "node:crypto";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { NotificationRequest } from "../src/alerting/routing/index.js";
import { NOTIFIERS } from "../src/notify/index.js";
import type { SendOutcome } from "../src/notify/notifier.js";
import { sha256Hex } from "../src/platform/ids.js";
import { FakeProvider } from "./support/fake-provider.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function notification(status: "firing" | "resolved" = "firing"): NotificationRequest {
  const firing = status === "firing";
  return {
    idempotencyKey: 'route-1:{alertname="HighLatency"}/api/1',
    receiver: "team-api",
    groupKey: '{}:{alertname="HighLatency"}',
    groupLabels: { alertname: "HighLatency" },
    commonLabels: { alertname: "HighLatency", env: "prod", service: "api" },
    commonAnnotations: {},
    status,
    alerts: [
      {
        fingerprint: "a1b2c3d4e5f60718",
        status: firing ? "firing" : "resolved",
        labels: { alertname: "HighLatency", env: "prod", service: "api", instance: "api-1:9090" },
        annotations: {
          summary: "p99 latency above 1s",
          description: "api-1 p99 latency is 1.4s",
          runbook_url: "https://runbooks.example/latency",
        },
        startsAt: T0,
        endsAt: firing ? 0 : T0 + 600_000,
        generatorURL: "http://prometheus.example/graph?g0.expr=latency",
      },
      {
        fingerprint: "0f1e2d3c4b5a6978",
        status: "resolved",
        labels: { alertname: "HighLatency", env: "prod", service: "api", instance: "api-2:9090" },
        annotations: { summary: "p99 latency above 1s" },
        startsAt: T0 - 60_000,
        endsAt: T0 + 300_500,
      },
    ],
    firingCount: firing ? 1 : 0,
    resolvedCount: firing ? 1 : 2,
    routeId: "route-1",
    at: T0 + 600_000,
  };
}

const EXTERNAL = "http://nines.example:9093";

async function send<K extends keyof typeof NOTIFIERS>(
  type: K,
  config: Parameters<(typeof NOTIFIERS)[K]["send"]>[0]["config"],
  request = notification(),
  templates: ReadonlyArray<{ name: string; text: string }> = [],
): Promise<SendOutcome> {
  const notifier = NOTIFIERS[type] as { send(input: unknown): Promise<SendOutcome> };
  return notifier.send({
    request,
    config,
    idempotencyKey: `${request.idempotencyKey}/${type}[0]`,
    externalURL: EXTERNAL,
    templates,
    signal: AbortSignal.timeout(5_000),
  });
}

const fake = new FakeProvider();
beforeAll(() => fake.start());
afterAll(() => fake.stop());
beforeEach(() => {
  fake.requests.length = 0;
  fake.respond = (_req, res) => res.writeHead(200).end("ok");
});

describe("webhook", () => {
  it("posts Alertmanager's version 4 payload exactly", async () => {
    const outcome = await send("webhook_configs", { url: `${fake.url}/hook` });
    expect(outcome.ok).toBe(true);
    const req = fake.last();
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/hook");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["idempotency-key"]).toBe('route-1:{alertname="HighLatency"}/api/1/webhook_configs[0]');
    // Alertmanager's webhook.Message, keys in Go's field order (template.Data, then version, groupKey, …).
    const fixture = {
      receiver: "team-api",
      status: "firing",
      alerts: [
        {
          status: "firing",
          labels: { alertname: "HighLatency", env: "prod", service: "api", instance: "api-1:9090" },
          annotations: {
            summary: "p99 latency above 1s",
            description: "api-1 p99 latency is 1.4s",
            runbook_url: "https://runbooks.example/latency",
          },
          startsAt: "2026-01-01T12:00:00Z",
          endsAt: "0001-01-01T00:00:00Z",
          generatorURL: "http://prometheus.example/graph?g0.expr=latency",
          fingerprint: "a1b2c3d4e5f60718",
        },
        {
          status: "resolved",
          labels: { alertname: "HighLatency", env: "prod", service: "api", instance: "api-2:9090" },
          annotations: { summary: "p99 latency above 1s" },
          startsAt: "2026-01-01T11:59:00Z",
          endsAt: "2026-01-01T12:05:00.5Z",
          generatorURL: "",
          fingerprint: "0f1e2d3c4b5a6978",
        },
      ],
      groupLabels: { alertname: "HighLatency" },
      commonLabels: { alertname: "HighLatency", env: "prod", service: "api" },
      commonAnnotations: {},
      externalURL: EXTERNAL,
      version: "4",
      groupKey: '{}:{alertname="HighLatency"}',
      truncatedAlerts: 0,
    };
    expect(req.body).toBe(JSON.stringify(fixture));
  });

  it("truncates to max_alerts and says how many were left out", async () => {
    await send("webhook_configs", { url: fake.url, max_alerts: 1 });
    const body = fake.json();
    expect((body.alerts as unknown[]).length).toBe(1);
    expect(body.truncatedAlerts).toBe(1);
  });

  it("signs the body with HMAC-SHA256 and sends http_config credentials", async () => {
    await send("webhook_configs", {
      url: fake.url,
      hmac_secret: "s3cret-key",
      http_config: { bearer_token: "tok-123" },
    });
    const req = fake.last();
    const expected = createHmac("sha256", "s3cret-key").update(req.body).digest("hex");
    expect(req.headers["x-nines-signature"]).toBe(`sha256=${expected}`);
    expect(req.headers.authorization).toBe("Bearer tok-123");
  });

  it("retries on 500, 429 and 408, and gives up at once on another 4xx", async () => {
    for (const [code, retry] of [
      [500, true],
      [503, true],
      [429, true],
      [408, true],
      [400, false],
      [404, false],
    ] as const) {
      fake.respond = (_req, res) => res.writeHead(code).end("nope");
      const outcome = await send("webhook_configs", { url: fake.url });
      expect(outcome).toMatchObject({ ok: false, retry, statusCode: code });
    }
  });
});

describe("slack", () => {
  it("posts blocks with a header, a section with fields and a context, plus fallback text", async () => {
    const outcome = await send("slack_configs", {
      api_url: `${fake.url}/services/T000/B000/XXXX`,
      channel: "#alerts",
      username: "nines",
    });
    expect(outcome.ok).toBe(true);
    const body = fake.json() as {
      channel: string;
      username: string;
      text: string;
      blocks: Array<Record<string, unknown>>;
      attachments: Array<{ color: string; blocks: Array<{ type: string; elements: unknown[] }> }>;
    };
    expect(body.channel).toBe("#alerts");
    expect(body.username).toBe("nines");
    expect(body.text).toBe("[FIRING:1] HighLatency (prod api)");
    expect(body.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: "[FIRING:1] HighLatency (prod api)", emoji: true },
    });
    expect(body.blocks[1]).toMatchObject({ type: "section", text: { type: "mrkdwn" } });
    expect(JSON.stringify(body.blocks[1])).toContain("p99 latency above 1s");
    expect(JSON.stringify(body.blocks[1])).toContain("<https://runbooks.example/latency|Runbook>");
    expect(JSON.stringify(body.blocks[1])).toContain("_(resolved)_");
    expect(body.blocks[2]).toMatchObject({ type: "section" });
    expect((body.blocks[2] as { fields: unknown[] }).fields).toContainEqual({
      type: "mrkdwn",
      text: "*env*\nprod",
    });
    expect(body.attachments[0]?.color).toBe("danger");
    expect(body.attachments[0]?.blocks[0]?.type).toBe("context");
  });

  it("renders custom title and text as Go templates over Alertmanager's data", async () => {
    await send("slack_configs", {
      api_url: fake.url,
      title: "{{ .Status | toUpper }} {{ .CommonLabels.service }} ({{ len .Alerts }})",
      text: "{{ range .Alerts }}{{ .Labels.instance }}={{ .Status }} {{ end }}",
    });
    const body = fake.json() as { blocks: Array<{ text?: { text: string } }> };
    expect(body.blocks[0]?.text?.text).toBe("FIRING api (2)");
    expect(body.blocks[1]?.text?.text).toBe("api-1:9090=firing api-2:9090=resolved ");
  });

  it("renders the documented example, Alertmanager's default references, and survives a broken template", async () => {
    await send("slack_configs", {
      api_url: fake.url,
      title: "{{ .Status | toUpper }}: {{ .CommonLabels.alertname }} on {{ .CommonLabels.service }}",
      text: "{{ range .Alerts }}{{ .Annotations.summary }} ({{ .Labels.instance }}, {{ .Status }}). {{ end }}",
    });
    let body = fake.json() as { blocks: Array<{ text?: { text: string } }> };
    expect(body.blocks[0]?.text?.text).toBe("FIRING: HighLatency on api");
    expect(body.blocks[1]?.text?.text).toBe(
      "p99 latency above 1s (api-1:9090, firing). p99 latency above 1s (api-2:9090, resolved). ",
    );
    await send("slack_configs", {
      api_url: fake.url,
      title: '{{ template "slack.default.title" . }}',
      text: "{{ .NoSuchField }}",
    });
    body = fake.json() as { blocks: Array<{ text?: { text: string } }> };
    expect(body.blocks[0]?.text?.text).toBe("[FIRING:1] HighLatency (prod api)");
    expect(body.blocks[1]?.text?.text).toContain("p99 latency above 1s");
    expect(body.blocks[1]?.text?.text).toContain("(template error:");
  });

  it("retries when the webhook answers 200 with garbage instead of ok", async () => {
    fake.respond = (_req, res) => res.writeHead(200).end("<html>proxy error</html>");
    expect(await send("slack_configs", { api_url: fake.url })).toMatchObject({ ok: false, retry: true });
  });
});

describe("template files (Alertmanager's templates:)", () => {
  // A user's file: redefines Alertmanager's default names of every integration, and adds one of its own.
  const names = [
    "slack.default.title",
    "slack.default.text",
    "discord.default.title",
    "discord.default.message",
    "msteams.default.title",
    "msteamsv2.default.title",
    "msteamsv2.default.text",
    "telegram.default.message",
    "opsgenie.default.message",
    "opsgenie.default.description",
    "pagerduty.default.description",
  ];
  const library = [
    {
      name: "templates/team.tmpl",
      text: `${names.map((n) => `{{ define "${n}" }}${n}: {{ template "team.subject" . }}{{ end }}`).join("\n")}
{{ define "team.subject" }}{{ .Status }} {{ .CommonLabels.alertname }}/{{ .CommonLabels.service }}{{ end }}`,
    },
  ];
  const sent = (type: keyof typeof NOTIFIERS, config: Record<string, unknown>) =>
    send(type, config as never, notification(), library);

  it("a field that calls a template of the files renders it", async () => {
    await sent("slack_configs", { api_url: fake.url, title: '{{ template "team.subject" . }} now' });
    const body = fake.json() as { blocks: Array<{ text?: { text: string } }> };
    expect(body.blocks[0]?.text?.text).toBe("firing HighLatency/api now");
  });

  it("every receiver's unset fields use the files' redefinitions of Alertmanager's default templates", async () => {
    await sent("slack_configs", { api_url: fake.url });
    const slack = fake.json() as { blocks: Array<{ text?: { text: string } }> };
    expect(slack.blocks[0]?.text?.text).toBe("slack.default.title: firing HighLatency/api");
    expect(slack.blocks[1]?.text?.text).toBe("slack.default.text: firing HighLatency/api");

    await sent("discord_configs", { webhook_url: fake.url });
    const discord = fake.json() as { embeds: Array<{ title: string; description: string }> };
    expect(discord.embeds[0]).toMatchObject({
      title: "discord.default.title: firing HighLatency/api",
      description: "discord.default.message: firing HighLatency/api",
    });

    for (const type of ["msteams_configs", "msteamsv2_configs"] as const) {
      await sent(type, { webhook_url: fake.url });
      const card = JSON.stringify(fake.json());
      expect(card).toContain(`${type.replace("_configs", "")}.default.title: firing HighLatency/api`);
    }
    expect(JSON.stringify(fake.json())).toContain("msteamsv2.default.text: firing HighLatency/api");

    await sent("telegram_configs", { bot_token: "123:abc", chat_id: 42, api_url: fake.url });
    expect(fake.json()).toMatchObject({ text: "telegram.default.message: firing HighLatency/api" });

    await sent("opsgenie_configs", { api_key: "k", api_url: fake.url });
    expect(fake.json()).toMatchObject({
      message: "opsgenie.default.message: firing HighLatency/api",
      description: "opsgenie.default.description: firing HighLatency/api",
    });

    await sent("pagerduty_configs", { routing_key: "r", url: fake.url });
    expect(fake.json()).toMatchObject({
      payload: { summary: "pagerduty.default.description: firing HighLatency/api" },
    });
  });

  it("a field set in the config wins over the files' redefinition; without files Nines's defaults stay", async () => {
    await sent("slack_configs", { api_url: fake.url, title: "fixed" });
    const own = fake.json() as { blocks: Array<{ text?: { text: string } }> };
    expect(own.blocks[0]?.text?.text).toBe("fixed");
    await send("slack_configs", { api_url: fake.url });
    const plain = fake.json() as { blocks: Array<{ text?: { text: string } }> };
    expect(plain.blocks[0]?.text?.text).toBe("[FIRING:1] HighLatency (prod api)");
  });
});

describe("microsoft teams", () => {
  it("posts an Adaptive Card 1.4 in a message envelope to the workflow URL", async () => {
    const outcome = await send("msteamsv2_configs", { webhook_url: `${fake.url}/workflows/abc` });
    expect(outcome.ok).toBe(true);
    const body = fake.json() as {
      type: string;
      attachments: Array<{ contentType: string; content: Record<string, unknown> }>;
    };
    expect(body.type).toBe("message");
    expect(body.attachments).toHaveLength(1);
    const card = body.attachments[0];
    expect(card?.contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(card?.content.type).toBe("AdaptiveCard");
    expect(card?.content.version).toBe("1.4");
    expect(card?.content.$schema).toBe("http://adaptivecards.io/schemas/adaptive-card.json");
    const blocks = card?.content.body as Array<{ type: string; text?: string }>;
    expect(blocks[0]).toMatchObject({ type: "TextBlock", text: "[FIRING:1] HighLatency (prod api)" });
    expect(blocks.some((b) => b.type === "FactSet")).toBe(true);
    expect(card?.content.actions).toContainEqual({
      type: "Action.OpenUrl",
      title: "Runbook",
      url: "https://runbooks.example/latency",
    });
  });
});

describe("pagerduty", () => {
  it("triggers with a dedup key from the group key and resolves with the same key", async () => {
    const config = { routing_key: "R0UT1NGKEY", url: `${fake.url}/v2/enqueue` };
    fake.respond = (_req, res) =>
      res.writeHead(202, { "content-type": "application/json" }).end('{"status":"success"}');
    expect((await send("pagerduty_configs", config)).ok).toBe(true);
    const trigger = fake.json() as Record<string, unknown> & { payload: Record<string, unknown> };
    const dedup = sha256Hex('{}:{alertname="HighLatency"}');
    expect(fake.last().url).toBe("/v2/enqueue");
    expect(trigger.routing_key).toBe("R0UT1NGKEY");
    expect(trigger.event_action).toBe("trigger");
    expect(trigger.dedup_key).toBe(dedup);
    expect(trigger.payload).toMatchObject({
      summary: "[FIRING:1] HighLatency (prod api)",
      source: "Nines",
      severity: "error",
      timestamp: "2026-01-01T12:00:00.000Z",
    });
    expect(trigger.payload.custom_details).toMatchObject({ num_firing: 1, num_resolved: 1 });
    expect(trigger.links).toContainEqual({ href: "https://runbooks.example/latency", text: "Runbook" });
    expect(trigger.client_url).toBe(EXTERNAL);

    expect((await send("pagerduty_configs", config, notification("resolved"))).ok).toBe(true);
    expect(fake.json()).toEqual({ routing_key: "R0UT1NGKEY", event_action: "resolve", dedup_key: dedup });
  });
});

describe("opsgenie", () => {
  it("creates an alert with the group key hash as alias, then closes it by alias", async () => {
    const config = { api_key: "genie-key-1", api_url: `${fake.url}/`, tags: "api, prod" };
    fake.respond = (_req, res) => res.writeHead(202).end('{"result":"Request will be processed"}');
    expect((await send("opsgenie_configs", config)).ok).toBe(true);
    const alias = sha256Hex('{}:{alertname="HighLatency"}');
    let req = fake.last();
    expect(req.url).toBe("/v2/alerts");
    expect(req.headers.authorization).toBe("GenieKey genie-key-1");
    expect(fake.json()).toMatchObject({
      message: "[FIRING:1] HighLatency (prod api)",
      alias,
      tags: ["api", "prod"],
      details: { env: "prod", service: "api" },
      source: EXTERNAL,
    });
    expect(String(fake.json().description)).toContain("p99 latency above 1s");

    expect((await send("opsgenie_configs", config, notification("resolved"))).ok).toBe(true);
    req = fake.last();
    expect(req.method).toBe("POST");
    expect(req.url).toBe(`/v2/alerts/${alias}/close?identifierType=alias`);
    expect(req.headers.authorization).toBe("GenieKey genie-key-1");
  });
});

describe("telegram", () => {
  it("calls sendMessage with HTML text and checks the ok answer", async () => {
    fake.respond = (_req, res) => res.writeHead(200).end('{"ok":true,"result":{"message_id":1}}');
    const outcome = await send("telegram_configs", {
      api_url: fake.url,
      bot_token: "123:ABC",
      chat_id: -100200,
    });
    expect(outcome.ok).toBe(true);
    expect(fake.last().url).toBe("/bot123:ABC/sendMessage");
    const body = fake.json();
    expect(body.chat_id).toBe(-100200);
    expect(body.parse_mode).toBe("HTML");
    expect(String(body.text)).toMatch(/^<b>\[FIRING:1\] HighLatency \(prod api\)<\/b>/);
    expect(String(body.text)).toContain('<a href="https://runbooks.example/latency">Runbook</a>');
  });

  it("retries when Telegram answers ok:false or garbage", async () => {
    const config = { api_url: fake.url, bot_token: "123:ABC", chat_id: 1 };
    fake.respond = (_req, res) => res.writeHead(200).end("not json at all");
    expect(await send("telegram_configs", config)).toMatchObject({ ok: false, retry: true });
  });
});

describe("discord", () => {
  it("posts an embed with title, description and the status colour", async () => {
    fake.respond = (_req, res) => res.writeHead(204).end();
    expect((await send("discord_configs", { webhook_url: `${fake.url}/api/webhooks/1/x` })).ok).toBe(true);
    const body = fake.json() as { embeds: Array<Record<string, unknown>> };
    expect(body.embeds).toHaveLength(1);
    expect(body.embeds[0]).toMatchObject({ title: "[FIRING:1] HighLatency (prod api)", color: 0x992d22 });
    expect(String(body.embeds[0]?.description)).toContain("[RESOLVED] HighLatency: p99 latency above 1s");
    await send("discord_configs", { webhook_url: fake.url }, notification("resolved"));
    expect((fake.json() as { embeds: Array<{ color: number }> }).embeds[0]?.color).toBe(0x2ecc71);
  });
});

describe("ntfy", () => {
  it("publishes the message with Title, Priority and Tags headers", async () => {
    fake.respond = (_req, res) => res.writeHead(200).end('{"id":"abc123","event":"message"}');
    const outcome = await send("ntfy_configs", { url: fake.url, topic: "nines-alerts", token: "tk_1" });
    expect(outcome.ok).toBe(true);
    const req = fake.last();
    expect(req.url).toBe("/nines-alerts");
    expect(req.headers.title).toBe("[FIRING:1] HighLatency (prod api)");
    expect(req.headers.priority).toBe("high");
    expect(req.headers.tags).toBe("rotating_light");
    expect(req.headers.authorization).toBe("Bearer tk_1");
    expect(req.body).toContain("[FIRING] HighLatency: p99 latency above 1s");
    expect(req.body).toContain("Runbook: https://runbooks.example/latency");
  });
});

describe("email", () => {
  let smtp: SMTPServer;
  let port = 0;
  const mails: Array<{ from: string; to: string[]; raw: string; user: string | undefined }> = [];

  beforeAll(async () => {
    smtp = new SMTPServer({
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (auth.username === "alerts" && auth.password === "pw-1") callback(null, { user: "alerts" });
        else callback(new Error("invalid credentials"));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString("utf8"),
            user: typeof session.user === "string" ? session.user : undefined,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
    port = (smtp.server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));

  it("sends a multipart mail with a text and an HTML body through SMTP with auth", async () => {
    const outcome = await send("email_configs", {
      smarthost: `127.0.0.1:${port}`,
      from: "nines@example.org",
      to: "oncall@example.org",
      auth_username: "alerts",
      auth_password: "pw-1",
      require_tls: false,
    });
    expect(outcome).toMatchObject({ ok: true });
    const mail = mails.at(-1);
    expect(mail?.from).toBe("nines@example.org");
    expect(mail?.to).toEqual(["oncall@example.org"]);
    expect(mail?.user).toBe("alerts");
    const raw = mail?.raw ?? "";
    expect(raw).toMatch(/^Subject: \[FIRING:1\] HighLatency \(prod api\)\r?$/m);
    expect(raw).toMatch(/Content-Type: multipart\/alternative/);
    expect(raw).toMatch(/Content-Type: text\/plain/);
    expect(raw).toMatch(/Content-Type: text\/html/);
    expect(raw).toMatch(/^Message-ID: <[0-9a-f]{32}@nines>\r?$/m);
    expect(raw).toContain("p99 latency above 1s");
  });

  it("uses a template file's email.default.subject and email.default.html", async () => {
    const outcome = await send(
      "email_configs",
      {
        smarthost: `127.0.0.1:${port}`,
        from: "nines@example.org",
        to: "oncall@example.org",
        auth_username: "alerts",
        auth_password: "pw-1",
        require_tls: false,
      },
      notification(),
      [
        {
          name: "mail.tmpl",
          text: `{{ define "email.default.subject" }}Team API: {{ .CommonLabels.alertname }}{{ end }}
{{ define "email.default.html" }}<p>custom body for {{ .Receiver }}</p>{{ end }}`,
        },
      ],
    );
    expect(outcome).toMatchObject({ ok: true });
    const raw = mails.at(-1)?.raw ?? "";
    expect(raw).toMatch(/^Subject: Team API: HighLatency\r?$/m);
    expect(raw).toContain("<p>custom body for team-api</p>");
  });

  it("does not retry when the server refuses the credentials", async () => {
    const outcome = await send("email_configs", {
      smarthost: `127.0.0.1:${port}`,
      from: "nines@example.org",
      to: "oncall@example.org",
      auth_username: "alerts",
      auth_password: "wrong",
      require_tls: false,
    });
    expect(outcome).toMatchObject({ ok: false, retry: false });
  });
});
