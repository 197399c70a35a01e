package io.kopconformance.pulsar;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import javax.naming.AuthenticationException;
import org.apache.pulsar.broker.ServiceConfiguration;
import org.apache.pulsar.broker.authentication.AuthenticationDataSource;
import org.apache.pulsar.broker.authentication.AuthenticationProvider;

/**
 * API-key logins for the embedded KoP target, the way the GDN's endpoint takes them: SASL PLAIN
 * password {@code token:<api key>}, where the key is opaque (not a JWT). KoP hands the part after
 * {@code token:} to the broker's authentication providers for method {@code token}; this provider
 * registers under the same method name beside Pulsar's own {@code AuthenticationProviderToken},
 * and Pulsar's provider list tries each, so JWTs keep working and API keys work too.
 *
 * The broker knows only each key's SHA-256 (hex) and the role it logs in as: the file named by
 * the broker setting {@code kopcApiKeyDigestsFile}, lines {@code <sha-256 hex>=<role>}. The key
 * itself is never written or logged.
 *
 * {@code kopcAcceptAnyLogin=true} exists only for the suite's check of itself
 * ({@code KOPC_FAULT=auth-off}): every credential is then accepted, as the first superuser role.
 */
public final class ApiKeyAuthenticationProvider implements AuthenticationProvider {
    static final String SETTING = "kopcApiKeyDigestsFile";
    private final Map<String, String> roleByDigest = new HashMap<>();
    /** Set only under KOPC_FAULT=auth-off: the role every credential logs in as. */
    private String acceptAnyAs;

    @Override
    public void initialize(ServiceConfiguration config) throws IOException {
        if ("true".equals(String.valueOf(config.getProperties().get("kopcAcceptAnyLogin")))) {
            acceptAnyAs = config.getSuperUserRoles().iterator().next();
        }
        Object file = config.getProperties().get(SETTING);
        if (file == null) throw new IOException("broker setting " + SETTING + " is not set");
        for (String line : Files.readAllLines(Path.of(file.toString()), StandardCharsets.UTF_8)) {
            int eq = line.indexOf('=');
            if (line.isBlank() || line.startsWith("#") || eq < 0) continue;
            roleByDigest.put(line.substring(0, eq).trim().toLowerCase(), line.substring(eq + 1).trim());
        }
    }

    @Override
    public String getAuthMethodName() {
        return "token";
    }

    @Override
    public String authenticate(AuthenticationDataSource authData) throws AuthenticationException {
        String key = authData.hasDataFromCommand() ? authData.getCommandData() : null;
        if (acceptAnyAs != null) return acceptAnyAs;
        if (key == null || key.isEmpty()) throw new AuthenticationException("no API key");
        String role = roleByDigest.get(sha256Hex(key.trim()));
        if (role == null) throw new AuthenticationException("unknown API key");
        return role;
    }

    private static String sha256Hex(String s) throws AuthenticationException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AuthenticationException("SHA-256 unavailable");
        }
    }

    @Override
    public void close() {
        roleByDigest.clear();
    }
}
