import { formatForContentType, type ParsedPage } from "./exposition.js";
import { parseOpenMetrics } from "./openmetrics-parser.js";
import { parsePrometheusText } from "./prometheus-text-parser.js";

/** Parses a scraped page with the parser its Content-Type calls for. Throws `ExpositionError`. */
export function parseExposition(body: string, contentType: string | undefined): ParsedPage {
  return formatForContentType(contentType) === "openmetrics"
    ? parseOpenMetrics(body)
    : parsePrometheusText(body);
}
