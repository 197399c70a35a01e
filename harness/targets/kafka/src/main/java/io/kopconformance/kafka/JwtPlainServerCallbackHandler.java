package io.kopconformance.kafka;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.plain.PlainAuthenticateCallback;

/**
 * SASL PLAIN for the reference Kafka broker, the way the GDN endpoint checks logins:
 * username {@code <tenant>/<fabric>}, password {@code token:<jwt>}. The JWT must be an
 * HS256 token signed with the embedded targets' shared secret key (Pulsar token
 * authentication's format), unexpired, and its {@code sub} (the Pulsar role) must be the
 * role the principals file assigns to that username. Or the password is
 * {@code token:<api key>}: an opaque key whose SHA-256 the API keys file maps to that role.
 *
 * JAAS options: {@code secret_key_file} (raw key bytes), {@code principals_file}
 * (lines {@code <tenant>/<fabric>=<role>}), {@code api_keys_file} (optional: lines
 * {@code <sha-256 hex of the key>=<role>}), and {@code accept_any="true"} only when the
 * suite checks itself with authentication turned off. Nothing secret is ever logged.
 */
public final class JwtPlainServerCallbackHandler implements AuthenticateCallbackHandler {
    private static final String TOKEN_PREFIX = "token:";
    private final ObjectMapper json = new ObjectMapper();
    private byte[] secretKey;
    /** Fault injection for the suite's own checks (KOPC_FAULT=auth-off): accept any login. */
    private boolean acceptAny;
    private final Map<String, String> roleByUsername = new HashMap<>();
    private final Map<String, String> roleByApiKeyDigest = new HashMap<>();

    @Override
    public void configure(Map<String, ?> configs, String saslMechanism, List<AppConfigurationEntry> jaasConfigEntries) {
        Map<String, ?> options = jaasConfigEntries.get(0).getOptions();
        acceptAny = "true".equals(String.valueOf(options.get("accept_any")));
        try {
            secretKey = Files.readAllBytes(Path.of(required(options, "secret_key_file")));
            for (String line : Files.readAllLines(Path.of(required(options, "principals_file")), StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (line.isBlank() || line.startsWith("#") || eq < 0) continue;
                roleByUsername.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
            Object apiKeys = options.get("api_keys_file");
            if (apiKeys != null) {
                for (String line : Files.readAllLines(Path.of(apiKeys.toString()), StandardCharsets.UTF_8)) {
                    int eq = line.indexOf('=');
                    if (line.isBlank() || line.startsWith("#") || eq < 0) continue;
                    roleByApiKeyDigest.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read JWT handler configuration: " + e.getMessage(), e);
        }
    }

    private static String required(Map<String, ?> options, String name) {
        Object v = options.get(name);
        if (v == null) throw new IllegalStateException("JAAS option " + name + " is required");
        return v.toString();
    }

    @Override
    public void handle(Callback[] callbacks) throws IOException, UnsupportedCallbackException {
        String username = null;
        for (Callback cb : callbacks) {
            if (cb instanceof NameCallback) {
                username = ((NameCallback) cb).getDefaultName();
            } else if (cb instanceof PlainAuthenticateCallback) {
                PlainAuthenticateCallback plain = (PlainAuthenticateCallback) cb;
                plain.authenticated(authenticate(username, new String(plain.password())));
            } else {
                throw new UnsupportedCallbackException(cb);
            }
        }
    }

    boolean authenticate(String username, String password) {
        if (acceptAny) return true;
        if (username == null || !password.startsWith(TOKEN_PREFIX)) return false;
        String expectedRole = roleByUsername.get(username);
        if (expectedRole == null) return false;
        String token = password.substring(TOKEN_PREFIX.length());
        return jwtGrants(token, expectedRole) || apiKeyGrants(token, expectedRole);
    }

    private boolean apiKeyGrants(String token, String expectedRole) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder();
            for (byte b : digest) hex.append(String.format("%02x", b));
            return expectedRole.equals(roleByApiKeyDigest.get(hex.toString()));
        } catch (Exception e) {
            return false;
        }
    }

    private boolean jwtGrants(String token, String expectedRole) {
        String[] parts = token.split("\\.");
        if (parts.length != 3) return false;
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secretKey, "HmacSHA256"));
            byte[] expectedSig = mac.doFinal((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            byte[] sig = Base64.getUrlDecoder().decode(parts[2]);
            if (!MessageDigest.isEqual(expectedSig, sig)) return false;
            JsonNode header = json.readTree(Base64.getUrlDecoder().decode(parts[0]));
            if (!"HS256".equals(header.path("alg").asText())) return false;
            JsonNode claims = json.readTree(Base64.getUrlDecoder().decode(parts[1]));
            if (claims.has("exp") && claims.get("exp").asLong() < System.currentTimeMillis() / 1000) return false;
            return expectedRole.equals(claims.path("sub").asText(null));
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public void close() {
        secretKey = null;
    }
}
