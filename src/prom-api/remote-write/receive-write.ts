import SnappyJS from "snappyjs";
import { CLASSIC_LABEL_NAME, type Label, METRIC_NAME } from "../../promql/index.js";
import { AppendError, type Appender } from "../../tsdb/index.js";
import { decodeWriteRequest, ProtobufError } from "./write-request-decoder.js";

/** Largest compressed body the receiver takes (Fastify answers 413 above it). */
export const REMOTE_WRITE_BODY_LIMIT = 32 * 1024 * 1024;
/** Largest body after decompression, so that a small body cannot expand into gigabytes. */
export const REMOTE_WRITE_MAX_DECOMPRESSED = 256 * 1024 * 1024;
/** Samples further ahead than this are out of bounds, as in Prometheus's write handler. */
const MAX_AHEAD_MS = 10 * 60_000;

const PROTOBUF = "application/x-protobuf";
const V1_MESSAGE = "prometheus.WriteRequest";
const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export interface RemoteWriteRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Uint8Array | undefined;
  /** Now, in milliseconds, for the too-far-in-the-future check. */
  readonly now: number;
  appender(): Appender;
}

/**
 * The outcome of a remote_write request: 204 when every sample is stored, else the status the remote-write
 * specification gives (415 for what the receiver does not speak, 400 for what the sender must not retry,
 * 500 for a store failure that it may retry) with a one-line text message, as Prometheus answers.
 */
export interface RemoteWriteOutcome {
  readonly status: 204 | 400 | 415 | 500;
  readonly message: string;
  readonly samples: number;
  /** The store's exception behind a 500, for the log. */
  readonly cause?: unknown;
}

/**
 * Receives one remote-write 1.0 request: checks its headers, decompresses and decodes the body, validates
 * every series and writes all samples through one appender, committed only if the whole request is good,
 * so that nothing of a refused request is stored.
 */
export async function receiveRemoteWrite(request: RemoteWriteRequest): Promise<RemoteWriteOutcome> {
  const unsupported = checkHeaders(request.headers);
  if (unsupported !== undefined) return { status: 415, message: unsupported, samples: 0 };

  let decompressed: Uint8Array;
  try {
    // An empty body is not a snappy block either (a block starts with its length).
    if (request.body === undefined || request.body.length === 0) throw new Error("empty body");
    decompressed = SnappyJS.uncompress(request.body, REMOTE_WRITE_MAX_DECOMPRESSED);
  } catch (error) {
    return { status: 400, message: `snappy: corrupt input (${errorText(error)})`, samples: 0 };
  }

  const appender = request.appender();
  const maxT = request.now + MAX_AHEAD_MS;
  let samples = 0;
  try {
    decodeWriteRequest(decompressed, (series) => {
      const labels = checkLabels(series.labels);
      if (series.histogramCount > 0) {
        throw new Rejected(
          `series ${formatLabels(labels)} carries native histogram samples, which Nines does not store; send classic histograms (le buckets) instead`,
        );
      }
      const { timestamps, values } = series;
      for (let i = 0; i < series.sampleCount; i++) {
        const t = timestamps[i] as number;
        if (t > maxT) {
          throw new Rejected(
            `out of bounds: sample for series ${formatLabels(labels)} at ${t} is more than 10 minutes in the future`,
          );
        }
        appender.add(labels, t, values[i] as number);
      }
      samples += series.sampleCount;
    });
  } catch (error) {
    appender.rollback();
    if (error instanceof ProtobufError)
      return { status: 400, message: `proto: ${error.message}`, samples: 0 };
    if (error instanceof Rejected) return { status: 400, message: error.message, samples: 0 };
    if (error instanceof AppendError) {
      return {
        status: 400,
        message: `${error.message}: series ${formatLabels(error.labels)} at timestamp ${error.t}`,
        samples: 0,
      };
    }
    return {
      status: 500,
      message: `storing the samples failed: ${errorText(error)}`,
      samples: 0,
      cause: error,
    };
  }
  try {
    await appender.commit();
  } catch (error) {
    return {
      status: 500,
      message: `storing the samples failed: ${errorText(error)}`,
      samples: 0,
      cause: error,
    };
  }
  return { status: 204, message: "", samples };
}

/** A request the sender must not retry as it is (400). */
class Rejected extends Error {}

/** The 415 message for a request the receiver cannot read, or undefined when the headers are fine. */
function checkHeaders(headers: RemoteWriteRequest["headers"]): string | undefined {
  // As Prometheus: a missing Content-Type or Content-Encoding is taken to be remote-write 1.0 with snappy.
  const contentType = header(headers, "content-type");
  if (contentType !== undefined && contentType.trim() !== "") {
    const [media, ...params] = contentType.split(";").map((p) => p.trim());
    if (media?.toLowerCase() !== PROTOBUF) {
      return `expected ${PROTOBUF} as the first (media) part, got ${contentType} content-type`;
    }
    for (const param of params) {
      const [key, value] = param.split("=").map((p) => p.trim());
      if (key === "proto" && value !== V1_MESSAGE) {
        return `${value} protobuf message is not accepted by this server; accepted [${V1_MESSAGE}]`;
      }
    }
  }
  const encoding = header(headers, "content-encoding");
  if (encoding !== undefined && encoding !== "" && encoding.toLowerCase() !== "snappy") {
    return `${encoding} encoding (compression) is not accepted by this server; only snappy is acceptable`;
  }
  const version = header(headers, "x-prometheus-remote-write-version");
  if (version !== undefined && version !== "" && !/^[01]\./.test(version)) {
    return `remote-write version ${version} is not supported; this receiver speaks 0.1.0 (remote-write 1.0)`;
  }
  return undefined;
}

/**
 * The checks of the remote-write 1.0 specification: label names valid and sorted without repeats, no empty
 * values, a valid metric name. Returns the labels, which the store may keep as they are.
 */
function checkLabels(labels: Label[]): Label[] {
  let name = "";
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as Label;
    if (!isValidName(l.name, CLASSIC_LABEL_NAME, validLabelNames)) {
      throw new Rejected(`invalid label name ${JSON.stringify(l.name)} in series ${formatLabels(labels)}`);
    }
    if (i > 0) {
      const prev = (labels[i - 1] as Label).name;
      if (prev === l.name) {
        throw new Rejected(
          `duplicate label name ${JSON.stringify(l.name)} in series ${formatLabels(labels)}`,
        );
      }
      if (prev > l.name) {
        throw new Rejected(`labels are not sorted by name in series ${formatLabels(labels)}`);
      }
    }
    if (l.value === "") {
      throw new Rejected(
        `label ${JSON.stringify(l.name)} has an empty value in series ${formatLabels(labels)}`,
      );
    }
    if (l.name === METRIC_NAME) name = l.value;
  }
  if (name === "") throw new Rejected(`series ${formatLabels(labels)} has no metric name (__name__)`);
  if (!isValidName(name, METRIC_NAME_RE, validMetricNames)) {
    throw new Rejected(`invalid metric name ${JSON.stringify(name)} in series ${formatLabels(labels)}`);
  }
  return labels;
}

// Names seen valid before: a set lookup is cheaper than the regular expression, and names repeat.
const validLabelNames = new Set<string>();
const validMetricNames = new Set<string>();
const MAX_REMEMBERED_NAMES = 100_000;

function isValidName(name: string, pattern: RegExp, known: Set<string>): boolean {
  if (known.has(name)) return true;
  if (!pattern.test(name)) return false;
  if (known.size >= MAX_REMEMBERED_NAMES) known.clear();
  known.add(name);
  return true;
}

function header(headers: RemoteWriteRequest["headers"], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function formatLabels(labels: readonly Label[]): string {
  return `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(", ")}}`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
