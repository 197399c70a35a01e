package io.kopconformance.driver;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnsupportedSaslMechanismException;
import org.apache.kafka.common.protocol.Errors;

/**
 * Translates kafka-clients exceptions into PROTOCOL.md's canonical codes. Wrappers
 * (ExecutionException, "Failed to construct kafka producer", …) say nothing about the cause,
 * so the cause chain is searched for the first exception that does.
 */
final class CanonicalErrors {
  private CanonicalErrors() {}

  /** A code, the matched exception's class, and a message that is safe to report. */
  static final class Canonical {
    final String code;
    final String cls;
    final String message;

    Canonical(String code, String cls, String message) {
      this.code = code;
      this.cls = cls;
      this.message = message;
    }
  }

  private static final Pattern TOKEN = Pattern.compile("token:[^\\s\"',;)\\]}]+");

  /** Removes the given secrets and anything shaped like a `token:<jwt>` password. */
  static String redact(String text, List<String> secrets) {
    if (text == null) return "";
    String out = text;
    for (String s : secrets) {
      if (s != null && s.length() >= 4) out = out.replace(s, "<redacted>");
    }
    return TOKEN.matcher(out).replaceAll("token:<redacted>");
  }

  static Canonical map(Throwable top, List<String> secrets) {
    List<Throwable> chain = chain(top);
    for (Throwable t : chain) {
      String code = codeOf(t);
      if (code != null) return new Canonical(code, t.getClass().getName(), redact(describe(chain, t), secrets));
    }
    Throwable deepest = chain.get(chain.size() - 1);
    return new Canonical("UNKNOWN", deepest.getClass().getName(), redact(describe(chain, top), secrets));
  }

  /** The code this one exception stands for, or null when it only wraps its cause. */
  private static String codeOf(Throwable t) {
    if (t instanceof DriverException) return ((DriverException) t).code;
    if (t instanceof SslAuthenticationException || t instanceof SSLException) return "TLS_HANDSHAKE_FAILED";
    if (t instanceof SaslAuthenticationException) return "SASL_AUTHENTICATION_FAILED";
    if (t instanceof UnsupportedSaslMechanismException) return "UNSUPPORTED_SASL_MECHANISM";
    if (t instanceof TopicAuthorizationException) return "TOPIC_AUTHORIZATION_FAILED";
    if (t instanceof RecordTooLargeException) return "RECORD_TOO_LARGE";
    if (t instanceof TimeoutException || t instanceof java.util.concurrent.TimeoutException) return "TIMEOUT";
    // An option the client refuses (e.g. idempotence with acks=1) is a setting it cannot express.
    if (t instanceof ConfigException) return "UNSUPPORTED_SETTING";
    if (t instanceof ApiException) {
      Errors e = Errors.forException(t);
      if (e != Errors.UNKNOWN_SERVER_ERROR) return e.name();
      if (t instanceof AuthenticationException) return "SASL_AUTHENTICATION_FAILED";
      return "UNKNOWN";
    }
    return null; // a wrapper (ExecutionException, KafkaException, …): look at its cause
  }

  private static List<Throwable> chain(Throwable top) {
    List<Throwable> out = new ArrayList<>();
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    for (Throwable t = top; t != null && !seen.containsKey(t) && out.size() < 20; t = t.getCause()) {
      seen.put(t, Boolean.TRUE);
      out.add(t);
    }
    return out;
  }

  /** The matched exception's text, followed by its causes' (they often name the real reason). */
  private static String describe(List<Throwable> chain, Throwable from) {
    StringBuilder sb = new StringBuilder();
    boolean started = false;
    for (Throwable t : chain) {
      if (t == from) started = true;
      if (!started) continue;
      if (sb.length() > 0) sb.append(" <- caused by ");
      sb.append(t.getClass().getSimpleName());
      if (t.getMessage() != null) sb.append(": ").append(t.getMessage());
    }
    String s = sb.toString();
    return s.length() > 2000 ? s.substring(0, 2000) + "…" : s;
  }
}
