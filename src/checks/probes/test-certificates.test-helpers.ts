import { generateKeyPairSync } from "node:crypto";
import { createRequire } from "node:module";
import type * as Forge from "node-forge";

// node-forge is CommonJS without named exports that Node's ESM loader can see.
const forge = createRequire(import.meta.url)("node-forge") as typeof Forge;

export interface TestCertificate {
  certPem: string;
  keyPem: string;
  cert: Forge.pki.Certificate;
  key: Forge.pki.rsa.PrivateKey;
  notAfter: number;
}

interface CertificateOptions {
  commonName: string;
  notBefore: number;
  notAfter: number;
  /** Signs with this certificate's key; self-signed when absent. */
  issuer?: TestCertificate;
  isCa?: boolean;
  dnsNames?: string[];
  ips?: string[];
}

let serial = 1;

/** Issues a certificate with any validity dates; keys come from node:crypto because forge's RSA is slow. */
export function issueCertificate(options: CertificateOptions): TestCertificate {
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = pair.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const publicPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = (serial++).toString(16).padStart(2, "0");
  cert.validity.notBefore = new Date(options.notBefore);
  cert.validity.notAfter = new Date(options.notAfter);
  const subject = [{ name: "commonName", value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer ? options.issuer.cert.subject.attributes : subject);
  const extensions: object[] = [
    { name: "basicConstraints", cA: options.isCa === true, critical: true },
    options.isCa
      ? { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true }
      : { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ];
  if (!options.isCa) {
    extensions.push({ name: "extKeyUsage", serverAuth: true });
    const altNames = [
      ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
      ...(options.ips ?? []).map((ip) => ({ type: 7, ip })),
    ];
    extensions.push({ name: "subjectAltName", altNames });
  }
  cert.setExtensions(extensions);
  cert.sign(options.issuer ? options.issuer.key : key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem, cert, key, notAfter: options.notAfter };
}

const DAY = 86_400_000;

/**
 * CA → intermediate → leaf for "localhost" and 127.0.0.1, with the intermediate expiring before the leaf,
 * so the earliest expiry in the chain differs from the leaf's.
 */
export function makeChain(now: number, days = { root: 3650, intermediate: 10, leaf: 90 }) {
  const root = issueCertificate({
    commonName: "Nines Test Root",
    notBefore: now - DAY,
    notAfter: now + days.root * DAY,
    isCa: true,
  });
  const intermediate = issueCertificate({
    commonName: "Nines Test Intermediate",
    notBefore: now - DAY,
    notAfter: now + days.intermediate * DAY,
    issuer: root,
    isCa: true,
  });
  const leaf = issueCertificate({
    commonName: "localhost",
    notBefore: now - DAY,
    notAfter: now + days.leaf * DAY,
    issuer: intermediate,
    dnsNames: ["localhost"],
    ips: ["127.0.0.1"],
  });
  return { root, intermediate, leaf, serverCert: leaf.certPem + intermediate.certPem };
}
