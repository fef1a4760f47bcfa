import type { NotificationRequest } from "../alerting/routing/index.js";
import { renderText, type TemplateFile } from "./notify-template.js";

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether a template file defines `name` with `{{ define }}` or `{{ block }}`. */
export function definesTemplate(files: readonly TemplateFile[], name: string): boolean {
  const pattern = new RegExp(`\\{\\{-?\\s*(?:define|block)\\s+"${escapeRegExp(name)}"`);
  return files.some((f) => pattern.test(f.text));
}

export type FieldText = (
  template: string | undefined,
  fallback: () => string,
  defaultName?: string,
) => string;

/**
 * Renders the integration fields of one notification. An unset field is, as in Alertmanager, a reference to
 * the integration's default template (`defaultName`, e.g. "slack.default.title"): when a template file
 * redefines it, that definition is used; otherwise Nines's own default (`fallback`).
 */
export function fieldText(
  request: NotificationRequest,
  externalURL: string,
  templates: readonly TemplateFile[] = [],
): FieldText {
  return (template, fallback, defaultName) => {
    const effective =
      template ??
      (defaultName !== undefined && definesTemplate(templates, defaultName)
        ? `{{ template "${defaultName}" . }}`
        : undefined);
    return renderText(effective, fallback, request, externalURL, templates);
  };
}
