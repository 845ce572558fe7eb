package io.layerswarm.libp2p.multiformats;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A multiaddr: a sequence of (protocol, value) components with a text form
 * ({@code /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...}) and a binary form. Parsing is strict and bounded
 * ({@link #MAX_BYTES}, {@link #MAX_COMPONENTS}); every error names the offending component.
 */
public final class Multiaddr {

    /** Longest binary multiaddr accepted. */
    public static final int MAX_BYTES = 1024;
    /** Most components accepted. */
    public static final int MAX_COMPONENTS = 32;
    /** Longest DNS name accepted. */
    public static final int MAX_DNS_LENGTH = 255;

    /**
     * One component. The value is the binary value (empty for value-less protocols).
     *
     * @param protocol the protocol
     * @param value its binary value
     */
    public record Component(MultiaddrProtocol protocol, byte[] value) {
        /** Validates the value against the protocol. */
        public Component {
            Objects.requireNonNull(protocol, "protocol");
            value = value.clone();
            validate(protocol, value);
        }

        @Override
        public byte[] value() {
            return value.clone();
        }

        /** The value in text form ({@code ""} for value-less protocols). */
        public String valueText() {
            return valueToText(protocol, value);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Component c && c.protocol == protocol && Arrays.equals(c.value, value);
        }

        @Override
        public int hashCode() {
            return protocol.hashCode() * 31 + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return protocol.size() == 0 ? "/" + protocol.label() : "/" + protocol.label() + "/" + valueText();
        }
    }

    private final List<Component> components;

    private Multiaddr(List<Component> components) {
        if (components.size() > MAX_COMPONENTS) {
            throw new IllegalArgumentException("multiaddr has " + components.size() + " components (max "
                    + MAX_COMPONENTS + ")");
        }
        this.components = List.copyOf(components);
        if (bytes().length > MAX_BYTES) {
            throw new IllegalArgumentException("multiaddr longer than " + MAX_BYTES + " bytes");
        }
    }

    /** Builds a multiaddr from components. */
    public static Multiaddr of(List<Component> components) {
        return new Multiaddr(components);
    }

    /**
     * Parses the text form.
     *
     * @throws IllegalArgumentException with the offending component named
     */
    public static Multiaddr parse(String text) {
        Objects.requireNonNull(text, "multiaddr");
        if (text.length() > MAX_BYTES * 4) {
            throw new IllegalArgumentException("multiaddr text too long: " + text.length() + " chars");
        }
        if (!text.startsWith("/")) {
            throw new IllegalArgumentException("multiaddr must start with '/': " + abbreviate(text));
        }
        String[] parts = text.substring(1).split("/", -1);
        if (parts.length > 0 && parts[parts.length - 1].isEmpty()) {
            parts = Arrays.copyOf(parts, parts.length - 1); // tolerate one trailing slash
        }
        List<Component> out = new ArrayList<>();
        int i = 0;
        while (i < parts.length) {
            if (out.size() >= MAX_COMPONENTS) {
                throw new IllegalArgumentException("multiaddr has more than " + MAX_COMPONENTS + " components");
            }
            String name = parts[i++];
            if (name.isEmpty()) {
                throw new IllegalArgumentException("empty protocol name in multiaddr " + abbreviate(text));
            }
            MultiaddrProtocol p = MultiaddrProtocol.byLabel(name);
            if (p.size() == 0) {
                out.add(new Component(p, new byte[0]));
                continue;
            }
            if (i >= parts.length) {
                throw new IllegalArgumentException("multiaddr protocol /" + name + " is missing its value");
            }
            String value = parts[i++];
            try {
                out.add(new Component(p, textToValue(p, value)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid /" + name + " value '" + abbreviate(value) + "': "
                        + e.getMessage(), e);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("multiaddr " + abbreviate(text) + " has no components");
        }
        return new Multiaddr(out);
    }

    /**
     * Decodes the binary form.
     *
     * @throws IllegalArgumentException on truncation, unknown codes or invalid values
     */
    public static Multiaddr decode(byte[] bytes) {
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException("binary multiaddr longer than " + MAX_BYTES + " bytes");
        }
        if (bytes.length == 0) {
            // an empty address has no text form to round-trip through, and reaches no one
            throw new IllegalArgumentException("empty binary multiaddr");
        }
        List<Component> out = new ArrayList<>();
        int off = 0;
        while (off < bytes.length) {
            if (out.size() >= MAX_COMPONENTS) {
                throw new IllegalArgumentException("multiaddr has more than " + MAX_COMPONENTS + " components");
            }
            Varint.Decoded code = Varint.decode(bytes, off, bytes.length);
            off += code.length();
            MultiaddrProtocol p = MultiaddrProtocol.byCode(code.value());
            int len;
            if (p.size() == MultiaddrProtocol.VARIABLE) {
                Varint.Decoded l = Varint.decode(bytes, off, bytes.length);
                off += l.length();
                if (l.value() > bytes.length - off) {
                    throw new IllegalArgumentException("truncated /" + p.label() + " value: needs " + l.value()
                            + " bytes, " + (bytes.length - off) + " present");
                }
                len = (int) l.value();
            } else {
                len = p.size();
                if (len > bytes.length - off) {
                    throw new IllegalArgumentException("truncated /" + p.label() + " value");
                }
            }
            out.add(new Component(p, Arrays.copyOfRange(bytes, off, off + len)));
            off += len;
        }
        return new Multiaddr(out);
    }

    /** The components, in order. */
    public List<Component> components() {
        return components;
    }

    /** The binary form. */
    public byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Component c : components) {
            out.writeBytes(Varint.encode(c.protocol().code()));
            byte[] v = c.value;
            if (c.protocol().size() == MultiaddrProtocol.VARIABLE) {
                out.writeBytes(Varint.encode(v.length));
            }
            out.writeBytes(v);
        }
        return out.toByteArray();
    }

    /** The first value text of {@code protocol}, if present. */
    public Optional<String> valueOf(MultiaddrProtocol protocol) {
        return components.stream().filter(c -> c.protocol() == protocol).findFirst().map(Component::valueText);
    }

    /**
     * The socket address this multiaddr names for a transport: its host ({@code ip4}, {@code ip6}, or a
     * {@code dns*} name left unresolved) and the port of {@code portProtocol} ({@code tcp} or {@code udp}).
     *
     * @throws IllegalArgumentException if the port or the host is missing
     */
    public InetSocketAddress socketAddress(MultiaddrProtocol portProtocol) {
        int port = Integer.parseInt(valueOf(portProtocol).orElseThrow(() -> new IllegalArgumentException(
                "no " + portProtocol.label() + " port in " + this)));
        for (MultiaddrProtocol proto : new MultiaddrProtocol[] {MultiaddrProtocol.IP4, MultiaddrProtocol.IP6,
            MultiaddrProtocol.DNS, MultiaddrProtocol.DNS4, MultiaddrProtocol.DNS6}) {
            Optional<String> host = valueOf(proto);
            if (host.isPresent()) {
                return new InetSocketAddress(host.get(), port);
            }
        }
        throw new IllegalArgumentException("no host in " + this);
    }

    /** This address with {@code other}'s components appended. */
    public Multiaddr encapsulate(Multiaddr other) {
        List<Component> all = new ArrayList<>(components);
        all.addAll(other.components);
        return new Multiaddr(all);
    }

    /** This address without its trailing /p2p component, if any. */
    public Multiaddr withoutPeerId() {
        if (!components.isEmpty() && components.get(components.size() - 1).protocol() == MultiaddrProtocol.P2P) {
            return new Multiaddr(components.subList(0, components.size() - 1));
        }
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Multiaddr m && m.components.equals(components);
    }

    @Override
    public int hashCode() {
        return components.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Component c : components) {
            sb.append(c);
        }
        return sb.toString();
    }

    // ---- per-protocol value codecs ----

    private static void validate(MultiaddrProtocol p, byte[] v) {
        switch (p) {
            case IP4, IP6, TCP, UDP -> {
                if (v.length != p.size()) {
                    throw new IllegalArgumentException("/" + p.label() + " needs " + p.size() + " bytes, got " + v.length);
                }
            }
            case P2P_CIRCUIT, QUIC, QUIC_V1 -> {
                if (v.length != 0) {
                    throw new IllegalArgumentException("/" + p.label() + " takes no value");
                }
            }
            case DNS, DNS4, DNS6 -> checkDns(new String(v, StandardCharsets.UTF_8), v.length);
            case P2P -> {
                int code = Multihash.decode(v).code();
                if (code != Multicodec.IDENTITY && code != Multicodec.SHA2_256) {
                    throw new IllegalArgumentException("/p2p multihash must be identity or sha2-256");
                }
            }
            default -> throw new IllegalStateException("unhandled protocol " + p);
        }
    }

    private static void checkDns(String name, int byteLength) {
        if (byteLength == 0 || byteLength > MAX_DNS_LENGTH) {
            throw new IllegalArgumentException("DNS name must be 1.." + MAX_DNS_LENGTH + " bytes, got " + byteLength);
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '/' || c <= ' ' || c == 0x7F || c == '\uFFFD') {
                throw new IllegalArgumentException("invalid character in DNS name at index " + i);
            }
        }
    }

    private static byte[] textToValue(MultiaddrProtocol p, String s) {
        return switch (p) {
            case IP4 -> parseIp4(s);
            case IP6 -> parseIp6(s);
            case TCP, UDP -> {
                int port = parsePort(s);
                yield new byte[] {(byte) (port >>> 8), (byte) port};
            }
            case DNS, DNS4, DNS6 -> s.getBytes(StandardCharsets.UTF_8);
            case P2P -> parsePeerIdBytes(s);
            default -> throw new IllegalStateException("protocol " + p + " has no value");
        };
    }

    private static String valueToText(MultiaddrProtocol p, byte[] v) {
        return switch (p) {
            case IP4 -> (v[0] & 0xFF) + "." + (v[1] & 0xFF) + "." + (v[2] & 0xFF) + "." + (v[3] & 0xFF);
            case IP6 -> formatIp6(v);
            case TCP, UDP -> Integer.toString(((v[0] & 0xFF) << 8) | (v[1] & 0xFF));
            case DNS, DNS4, DNS6 -> new String(v, StandardCharsets.UTF_8);
            case P2P -> Base58.encode(v);
            default -> "";
        };
    }

    private static int parsePort(String s) {
        if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(Character::isDigit)
                || (s.length() > 1 && s.charAt(0) == '0')) {
            throw new IllegalArgumentException("port must be a decimal 0..65535");
        }
        int port = Integer.parseInt(s);
        if (port > 65535) {
            throw new IllegalArgumentException("port must be a decimal 0..65535");
        }
        return port;
    }

    private static byte[] parseIp4(String s) {
        String[] octets = s.split("\\.", -1);
        if (octets.length != 4) {
            throw new IllegalArgumentException("IPv4 address needs 4 dotted octets");
        }
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            String o = octets[i];
            if (o.isEmpty() || o.length() > 3 || !o.chars().allMatch(c -> c >= '0' && c <= '9')
                    || (o.length() > 1 && o.charAt(0) == '0')) {
                throw new IllegalArgumentException("IPv4 octet " + (i + 1) + " is not a decimal 0..255");
            }
            int v = Integer.parseInt(o);
            if (v > 255) {
                throw new IllegalArgumentException("IPv4 octet " + (i + 1) + " is not a decimal 0..255");
            }
            out[i] = (byte) v;
        }
        return out;
    }

    private static byte[] parseIp6(String s) {
        // Only hand InetAddress a literal it cannot mistake for a host name (no DNS lookups here).
        if (s.isEmpty() || s.length() > 45 || s.indexOf(':') < 0
                || !s.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
            throw new IllegalArgumentException("not an IPv6 literal");
        }
        byte[] addr;
        try {
            addr = InetAddress.getByName(s).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv6 literal", e);
        }
        if (addr.length == 4) { // JDK folds IPv4-mapped addresses to IPv4; keep the IPv6 form
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xFF;
            mapped[11] = (byte) 0xFF;
            System.arraycopy(addr, 0, mapped, 12, 4);
            return mapped;
        }
        return addr;
    }

    /** RFC 5952 text: lower case, longest run (>= 2) of zero groups compressed. */
    private static String formatIp6(byte[] v) {
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = ((v[2 * i] & 0xFF) << 8) | (v[2 * i + 1] & 0xFF);
        }
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen && j - i >= 2) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }

    private static byte[] parsePeerIdBytes(String s) {
        if (s.startsWith("Qm") || s.startsWith("1")) {
            byte[] mh = Base58.decode(s);
            Multihash.decode(mh);
            return mh;
        }
        Cid cid = Cid.parse(s);
        if (cid.codec() != Multicodec.LIBP2P_KEY) {
            throw new IllegalArgumentException("CID codec 0x" + Long.toHexString(cid.codec()) + " is not libp2p-key");
        }
        return cid.multihash().bytes();
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
