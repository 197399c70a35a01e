// Redaction at the source: anything that may reach a console, log or report passes
// through here. Known secret values are registered by whoever creates them (targets mint
// tokens, generate store passwords); JWT-shaped strings are masked regardless.

const known = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) known.add(value);
}

const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/g;
const TOKEN_PASSWORD = /token:[^\s"',;}]+/g;

export function redact(text: string): string {
  let out = text;
  for (const s of known) out = out.split(s).join('<redacted>');
  return out.replace(JWT, '<redacted-jwt>').replace(TOKEN_PASSWORD, 'token:<redacted>');
}
