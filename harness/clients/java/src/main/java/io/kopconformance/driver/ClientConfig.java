package io.kopconformance.driver;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Client properties from a PROTOCOL.md `conn` object, the seed's way: a PlainLoginModule JAAS
 * line with `<tenant>/<fabric>` + `token:<jwt>`, sasl.mechanism PLAIN, the security protocol,
 * and for SASL_SSL a truststore. Every wait is bounded so that a refused login or an unreachable
 * broker fails well inside the parent's own bound.
 */
final class ClientConfig {
  enum Role { ADMIN, PRODUCER, CONSUMER }

  /** Request/API bounds (ms). The parent allows 15 s above the bound of each op. */
  static final int REQUEST_TIMEOUT_MS = 10_000;
  static final int API_TIMEOUT_MS = 15_000;
  static final int MAX_BLOCK_MS = 10_000;
  static final int DELIVERY_TIMEOUT_MS = 25_000;

  private static final AtomicInteger SEQ = new AtomicInteger();

  final Properties props = new Properties();
  /** Values that must never reach a message: the password and the truststore password. */
  final List<String> secrets = new ArrayList<>();

  private ClientConfig() {}

  static String text(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  static String required(JsonNode node, String field) {
    String v = text(node, field);
    if (v == null) throw new DriverException("UNKNOWN", "command lacks the field `" + field + "`");
    return v;
  }

  /** Escapes a value for a double-quoted JAAS option. */
  static String jaasQuote(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** Secrets of a conn, for redaction even when building the config fails. */
  static List<String> secretsOf(JsonNode conn) {
    List<String> out = new ArrayList<>();
    if (conn == null) return out;
    out.add(text(conn, "password"));
    out.add(text(conn.get("ssl"), "truststore_password"));
    return out;
  }

  static ClientConfig from(JsonNode conn, Role role) {
    if (conn == null || !conn.isObject()) throw new DriverException("UNKNOWN", "command lacks the `conn` object");
    ClientConfig c = new ClientConfig();
    c.secrets.addAll(secretsOf(conn));
    Properties p = c.props;

    String protocol = required(conn, "security_protocol");
    boolean sasl = protocol.startsWith("SASL_");
    if (!protocol.equals("SASL_PLAINTEXT") && !protocol.equals("SASL_SSL") && !protocol.equals("PLAINTEXT") && !protocol.equals("SSL")) {
      throw new DriverException("UNSUPPORTED_SETTING", "security_protocol " + protocol + " is not one PROTOCOL.md knows");
    }
    p.put("bootstrap.servers", required(conn, "bootstrap"));
    p.put("security.protocol", protocol);
    if (sasl) {
      // PLAIN is the endpoint's; another mechanism is passed through so the endpoint's refusal shows.
      String mechanism = text(conn, "sasl_mechanism");
      if (mechanism == null) mechanism = "PLAIN";
      String module;
      if (mechanism.equals("PLAIN")) module = "org.apache.kafka.common.security.plain.PlainLoginModule";
      else if (mechanism.startsWith("SCRAM-SHA-")) module = "org.apache.kafka.common.security.scram.ScramLoginModule";
      else throw new DriverException("UNSUPPORTED_SETTING", "no login module for SASL mechanism " + mechanism);
      String username = required(conn, "username");
      String password = required(conn, "password");
      p.put("sasl.mechanism", mechanism);
      p.put("sasl.jaas.config", String.format("%s required username=\"%s\" password=\"%s\";",
          module, jaasQuote(username), jaasQuote(password)));
    }
    p.put("client.id", "kopc-java-" + role.name().toLowerCase() + "-" + SEQ.incrementAndGet());

    // A refused login or an unreachable port must fail fast, not after minutes of retries.
    p.put("request.timeout.ms", String.valueOf(REQUEST_TIMEOUT_MS));
    p.put("reconnect.backoff.ms", "100");
    p.put("reconnect.backoff.max.ms", "1000");
    p.put("retry.backoff.ms", "100");
    p.put("socket.connection.setup.timeout.ms", "5000");
    p.put("socket.connection.setup.timeout.max.ms", "10000");
    switch (role) {
      case ADMIN:
        p.put("default.api.timeout.ms", String.valueOf(API_TIMEOUT_MS));
        break;
      case PRODUCER:
        p.put("max.block.ms", String.valueOf(MAX_BLOCK_MS));
        p.put("delivery.timeout.ms", String.valueOf(DELIVERY_TIMEOUT_MS));
        break;
      case CONSUMER:
        p.put("default.api.timeout.ms", String.valueOf(API_TIMEOUT_MS));
        break;
      default:
        break;
    }

    if (protocol.endsWith("SSL")) applySsl(conn.get("ssl"), p);
    return c;
  }

  private static void applySsl(JsonNode ssl, Properties p) {
    boolean verify = ssl == null || !ssl.has("verify") || ssl.get("verify").asBoolean(true);
    boolean hostnames = ssl == null || !ssl.has("hostname_verification") || ssl.get("hostname_verification").asBoolean(true);
    if (!verify) {
      // kafka-clients has no "verify off" switch; the pluggable engine factory is the honest way.
      p.put("ssl.engine.factory.class", TrustAllSslEngineFactory.class.getName());
      p.put("ssl.endpoint.identification.algorithm", "");
      return;
    }
    String truststore = text(ssl, "truststore_path");
    String caPem = text(ssl, "ca_pem_path");
    if (truststore != null) {
      p.put("ssl.truststore.location", truststore);
      String pw = text(ssl, "truststore_password");
      if (pw != null) p.put("ssl.truststore.password", pw);
      String type = text(ssl, "truststore_type");
      p.put("ssl.truststore.type", type == null ? "PKCS12" : type);
    } else if (caPem != null) {
      // PEM truststores (KIP-651) exist since kafka-clients 2.7, so in every version tested.
      p.put("ssl.truststore.type", "PEM");
      p.put("ssl.truststore.location", caPem);
    }
    // Otherwise the JVM's default CAs apply.
    if (!hostnames) p.put("ssl.endpoint.identification.algorithm", "");
  }
}
