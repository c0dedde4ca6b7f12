package dev.shapeshift.embedded;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority for tests of TLS: a self-signed CA and certificates it
 * issues (servers with their host names and addresses, clients with a user name as CN), written
 * as files in the forms the servers and drivers read: PEM certificates, PEM PKCS#8 keys (PostgreSQL,
 * Kafka, Vert.x) and DER PKCS#8 keys (pgjdbc's {@code sslkey}). Needs
 * {@code org.bouncycastle:bcpkix-jdk18on} on the test class path. Made by {@link #authority}.
 *
 * @param dir           where the files are written
 * @param name          the CA's CN and the prefix of its files
 * @param caKeys        the CA's key pair (signs what {@link #issue} issues)
 * @param caCert        the CA's certificate
 * @param caCertificate the CA's certificate (PEM file): the trust root to give clients and servers
 */
public record TestCertificates(Path dir, String name, KeyPair caKeys, X509Certificate caCert, Path caCertificate) {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** One issued certificate and its key, as files. */
  public record Issued(Path certificate, Path key, Path keyDer) {}

  /** A new CA named {@code CN=<name>}, its certificate written to {@code <dir>/<name>-ca.crt}. */
  public static TestCertificates authority(Path dir, String name) {
    try {
      Files.createDirectories(dir);
      KeyPair keys = rsa();
      X500Name subject = new X500Name("CN=" + name);
      JcaX509v3CertificateBuilder b = builder(subject, subject, keys);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate cert = sign(b, keys.getPrivate());
      Path file = dir.resolve(name + "-ca.crt");
      Files.writeString(file, pem(cert));
      return new TestCertificates(dir, name, keys, cert, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A certificate for {@code CN=<commonName>}, signed by this CA, valid for server and client
   * authentication; {@code hosts} go in its subject alternative names (IP addresses as such).
   */
  public Issued issue(String commonName, String... hosts) {
    try {
      KeyPair keys = rsa();
      JcaX509v3CertificateBuilder b = builder(new X500Name("CN=" + name), new X500Name("CN=" + commonName), keys);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      if (hosts.length > 0) {
        List<GeneralName> names = new ArrayList<>();
        for (String h : hosts) {
          names.add(h.matches("[0-9.]+|.*:.*") ? new GeneralName(GeneralName.iPAddress,
              InetAddress.getByName(h).getHostAddress()) : new GeneralName(GeneralName.dNSName, h));
        }
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
      }
      X509Certificate cert = sign(b, caKeys.getPrivate());
      String base = commonName.replaceAll("[^A-Za-z0-9_.-]", "_");
      Path crt = Files.writeString(dir.resolve(base + ".crt"), pem(cert));
      // Keys 0600: PostgreSQL and pgjdbc refuse a key file others can read.
      Path key = Files.writeString(privateFile(dir.resolve(base + ".key")), pem(keys.getPrivate()));
      Path der = Files.write(privateFile(dir.resolve(base + ".pk8")), keys.getPrivate().getEncoded());
      return new Issued(crt, key, der);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path privateFile(Path file) throws IOException {
    Files.deleteIfExists(file);
    return Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
  }

  private static KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  private static JcaX509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic());
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder b, PrivateKey signer)
      throws GeneralSecurityException {
    try {
      X509CertificateHolder holder = b.build(new JcaContentSignerBuilder("SHA256withRSA").build(signer));
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static String pem(Object o) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o instanceof PrivateKey k ? new org.bouncycastle.util.io.pem.PemObject("PRIVATE KEY", k.getEncoded()) : o);
    }
    return out.toString();
  }
}
