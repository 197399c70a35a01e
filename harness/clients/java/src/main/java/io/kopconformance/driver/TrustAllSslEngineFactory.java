package io.kopconformance.driver;

import java.net.Socket;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.security.auth.SslEngineFactory;

/**
 * `ssl.verify: false` for kafka-clients, which has no such switch: a pluggable SSL engine
 * factory (KIP-519, kafka-clients 2.6+) whose trust manager accepts any server certificate and
 * that checks no host name. This is what the seed's Python (CERT_NONE) and Node
 * (rejectUnauthorized: false) examples do; it is used only when a scenario asks for it.
 */
public final class TrustAllSslEngineFactory implements SslEngineFactory {
  private SSLContext context;

  @Override
  public void configure(Map<String, ?> configs) {
    try {
      context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
    } catch (Exception e) {
      throw new KafkaException("cannot build a trust-all SSL context", e);
    }
  }

  @Override
  public SSLEngine createClientSslEngine(String peerHost, int peerPort, String endpointIdentification) {
    SSLEngine engine = context.createSSLEngine(peerHost, peerPort);
    engine.setUseClientMode(true);
    return engine;
  }

  @Override
  public SSLEngine createServerSslEngine(String peerHost, int peerPort) {
    throw new UnsupportedOperationException("the driver is a client only");
  }

  @Override
  public boolean shouldBeRebuilt(Map<String, Object> nextConfigs) {
    return false;
  }

  @Override
  public Set<String> reconfigurableConfigs() {
    return Collections.emptySet();
  }

  @Override
  public KeyStore keystore() {
    return null;
  }

  @Override
  public KeyStore truststore() {
    return null;
  }

  @Override
  public void close() {}

  private static final class TrustAll extends X509ExtendedTrustManager {
    @Override public void checkClientTrusted(X509Certificate[] chain, String authType) {}
    @Override public void checkServerTrusted(X509Certificate[] chain, String authType) {}
    @Override public void checkClientTrusted(X509Certificate[] chain, String authType, Socket s) {}
    @Override public void checkServerTrusted(X509Certificate[] chain, String authType, Socket s) {}
    @Override public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine e) {}
    @Override public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine e) {}
    @Override public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
