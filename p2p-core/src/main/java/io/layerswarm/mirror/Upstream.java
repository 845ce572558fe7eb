package io.layerswarm.mirror;

import io.layerswarm.registry.RegistryClient;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * One upstream registry a mirror pulls through, checked: {@code https}, or plain {@code http} only to
 * a loopback address or when the upstream is explicitly marked {@code insecure} (a registry on the
 * site's LAN), the way containerd's {@code hosts.toml} names a plain-http host. {@code insecure} also
 * skips TLS certificate verification for an {@code https} upstream (containerd's {@code skip_verify}).
 *
 * @param url base URL, {@code http(s)://host[:port]}
 * @param username user name, or {@code null} for anonymous pulls
 * @param password password (or token), present exactly when {@code username} is
 * @param insecure whether plain http and unverified TLS are allowed for this upstream
 */
public record Upstream(URI url, String username, String password, boolean insecure) {
    /** Checks the URL and the credentials; failures are {@link IllegalArgumentException}s naming the upstream. */
    public Upstream {
        if (url == null) {
            throw new IllegalArgumentException("upstream: url missing");
        }
        if (url.getHost() == null || url.getScheme() == null) {
            throw new IllegalArgumentException("upstream " + url + ": expected http(s)://host[:port]");
        }
        String scheme = url.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("http")) {
            if (!insecure && !isLoopback(url.getHost())) {
                throw new IllegalArgumentException("upstream " + url + ": plain http is allowed only for loopback;"
                        + " use https, or mark this upstream insecure (insecure: true, or --insecure-upstream "
                        + url + ")");
            }
        } else if (!scheme.equals("https")) {
            throw new IllegalArgumentException("upstream " + url + ": scheme must be https or http");
        }
        if ((username == null) != (password == null)) {
            throw new IllegalArgumentException("upstream " + url + ": username and password go together");
        }
    }

    /** Parses and checks {@code text} as an upstream URL. */
    public static Upstream parse(String text, String username, String password, boolean insecure) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("upstream: url missing");
        }
        try {
            return new Upstream(new URI(text), username, password, insecure);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("upstream " + text + ": not a URL (" + e.getReason() + ")", e);
        }
    }

    /** The {@code ?ns=} value that selects this upstream: its host[:port]. */
    public String namespace() {
        return UpstreamRouter.namespaceOf(url);
    }

    /** A registry client for this upstream (with its credentials; unverified TLS if insecure). */
    public RegistryClient.Builder clientBuilder() {
        RegistryClient.Builder b = RegistryClient.builder(url).insecureTls(insecure);
        if (username != null) {
            b.credentials(username, password);
        }
        return b;
    }

    /** Hides the password in logs and error messages. */
    @Override
    public String toString() {
        return "Upstream[" + url + (username == null ? "" : ", user " + username) + (insecure ? ", insecure" : "") + "]";
    }

    /**
     * Whether {@code host} is {@code localhost} or a literal loopback address (127.0.0.0/8, ::1). Names
     * are not looked up: a name that resolves to loopback today may not tomorrow.
     */
    static boolean isLoopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (!h.matches("[0-9.]+") && !h.contains(":")) {
            return false;
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
