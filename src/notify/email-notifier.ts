import type { NotificationRequest } from "../alerting/routing/index.js";
import type { IntegrationConfigs } from "./integrations.js";
import { hashKey, missing, type Notifier, type SendOutcome, secretOf, truncate } from "./notifier.js";
import { fieldText } from "./message-text.js";
import { defaultHtml, defaultText, defaultTitle, type TemplateFile } from "./notify-template.js";

type EmailConfig = IntegrationConfigs["email_configs"];

/** The mail for a notification: subject, HTML and text bodies, headers (all templates). */
export function emailMessage(
  request: NotificationRequest,
  config: EmailConfig,
  externalURL: string,
  idempotencyKey: string,
  templates: readonly TemplateFile[] = [],
) {
  const text = fieldText(request, externalURL, templates);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers ?? {}))
    headers[name.toLowerCase()] = text(value, () => value);
  const subject = headers.subject ?? text(undefined, () => defaultTitle(request), "email.default.subject");
  const to = headers.to ?? text(config.to, () => "");
  const from = headers.from ?? text(config.from, () => "");
  delete headers.subject;
  delete headers.to;
  delete headers.from;
  return {
    from,
    to,
    subject: subject.replace(/[\r\n]+/g, " "),
    text: text(config.text, () => defaultText(request, externalURL)),
    html: text(config.html, () => defaultHtml(request, externalURL), "email.default.html"),
    // A retried notification keeps its Message-ID, so mail systems can drop a duplicate.
    messageId: `<${hashKey(idempotencyKey).slice(0, 32)}@nines>`,
    headers,
  };
}

function splitHostPort(smarthost: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(smarthost);
  return match ? { host: match[1] ?? smarthost, port: Number(match[2]) } : { host: smarthost, port: 25 };
}

/** SMTP through nodemailer; STARTTLS is required unless require_tls is false (Alertmanager's default). */
export const emailNotifier: Notifier<EmailConfig> = {
  async send({ request, config, externalURL, idempotencyKey, templates, signal }): Promise<SendOutcome> {
    if (!config.smarthost) return missing("email smarthost");
    if (!config.to) return missing("email to");
    const { host, port } = splitHostPort(config.smarthost);
    const password =
      (await secretOf(config.auth_password, config.auth_password_file)) ??
      (await secretOf(config.auth_secret, config.auth_secret_file));
    const tls = (config.tls_config ?? {}) as Record<string, unknown>;
    // Loaded on the first email, not at every start: nodemailer is about 40 modules most servers never use.
    const { default: nodemailer } = await import("nodemailer");
    const transport = nodemailer.createTransport({
      host,
      port,
      secure: config.force_implicit_tls ?? port === 465,
      requireTLS: config.require_tls ?? true,
      ignoreTLS: config.require_tls === false,
      name: config.hello ?? "localhost",
      auth: config.auth_username ? { user: config.auth_username, pass: password ?? "" } : undefined,
      tls: {
        rejectUnauthorized: tls.insecure_skip_verify !== true,
        ...(typeof tls.server_name === "string" ? { servername: tls.server_name } : {}),
      },
    });
    const abort = () => transport.close();
    signal.addEventListener("abort", abort, { once: true });
    try {
      const info = await transport.sendMail(
        emailMessage(request, config, externalURL, idempotencyKey, templates),
      );
      return { ok: true, response: truncate(String(info.response ?? "")) };
    } catch (error) {
      if (signal.aborted) return { ok: false, retry: true, error: "request aborted: timeout" };
      const code = (error as { responseCode?: unknown }).responseCode;
      const message = error instanceof Error ? error.message : String(error);
      // SMTP 5xx replies are permanent (bad address, refused credentials); 4xx and network errors are not.
      const permanent = typeof code === "number" && code >= 500 && code < 600;
      return {
        ok: false,
        retry: !permanent,
        ...(typeof code === "number" ? { statusCode: code } : {}),
        error: truncate(message),
      };
    } finally {
      signal.removeEventListener("abort", abort);
      transport.close();
    }
  },
};
