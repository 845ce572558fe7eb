package io.layerswarm.registry;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One challenge of a {@code WWW-Authenticate} header (RFC 7235), e.g.
 * {@code Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"}.
 *
 * @param scheme the auth scheme, lower-cased ({@code bearer}, {@code basic})
 * @param params parameters with lower-cased names; repeated {@code scope} parameters are joined by a space
 */
public record AuthChallenge(String scheme, Map<String, String> params) {

    /** Longest header accepted. */
    public static final int MAX_HEADER_LENGTH = 8192;
    private static final int MAX_PARAMS = 32;

    /** Copies. */
    public AuthChallenge {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** A parameter, or {@code null}. */
    public String param(String name) {
        return params.get(name.toLowerCase(Locale.ROOT));
    }

    /** The scopes of a Bearer challenge (space-separated in {@code scope}). */
    public List<String> scopes() {
        String s = param("scope");
        if (s == null || s.isBlank()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String part : s.trim().split(" +")) {
            out.add(part);
        }
        return out;
    }

    /**
     * Parses every challenge in a header value.
     *
     * @throws IllegalArgumentException with a clear message for malformed headers (unterminated
     *         quotes, missing scheme, stray characters, duplicate parameters, oversized input)
     */
    public static List<AuthChallenge> parse(String header) {
        if (header == null || header.isBlank()) {
            throw new IllegalArgumentException("empty WWW-Authenticate header");
        }
        if (header.length() > MAX_HEADER_LENGTH) {
            throw new IllegalArgumentException("WWW-Authenticate header too long: " + header.length() + " chars");
        }
        return new Parser(header).challenges();
    }

    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        List<AuthChallenge> challenges() {
            List<AuthChallenge> out = new ArrayList<>();
            skipSeparators();
            while (pos < s.length()) {
                String scheme = token();
                if (scheme.isEmpty()) {
                    throw error("expected an auth scheme");
                }
                Map<String, String> params = new LinkedHashMap<>();
                skipSpaces();
                while (pos < s.length()) {
                    int start = pos;
                    String name = token();
                    skipSpaces();
                    if (name.isEmpty() || pos >= s.length() || s.charAt(pos) != '=') {
                        if (name.isEmpty() && pos < s.length() && s.charAt(pos) != ',') {
                            throw error("unexpected character '" + s.charAt(pos) + "'");
                        }
                        // Not a parameter: the next challenge's scheme starts here.
                        pos = start;
                        break;
                    }
                    pos++; // '='
                    skipSpaces();
                    String value = pos < s.length() && s.charAt(pos) == '"' ? quoted() : token();
                    if (value.isEmpty() && (pos >= s.length() || s.charAt(pos) != ',')) {
                        if (pos < s.length()) {
                            throw error("unexpected character '" + s.charAt(pos) + "' in value of " + name);
                        }
                    }
                    String key = name.toLowerCase(Locale.ROOT);
                    if (params.containsKey(key)) {
                        if (!key.equals("scope")) {
                            throw error("duplicate parameter '" + name + "'");
                        }
                        value = params.get(key) + " " + value;
                    }
                    if (params.size() >= MAX_PARAMS) {
                        throw error("too many parameters");
                    }
                    params.put(key, value);
                    skipSpaces();
                    if (pos < s.length()) {
                        if (s.charAt(pos) != ',') {
                            throw error("expected ',' after parameter " + name);
                        }
                        skipSeparators();
                    }
                }
                out.add(new AuthChallenge(scheme.toLowerCase(Locale.ROOT), params));
                skipSeparators();
            }
            if (out.isEmpty()) {
                throw error("no challenge");
            }
            return out;
        }

        private String token() {
            int start = pos;
            while (pos < s.length() && isTokenChar(s.charAt(pos))) {
                pos++;
            }
            return s.substring(start, pos);
        }

        private String quoted() {
            StringBuilder sb = new StringBuilder();
            pos++; // opening quote
            while (pos < s.length()) {
                char c = s.charAt(pos++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c == '\\') {
                    if (pos >= s.length()) {
                        break;
                    }
                    c = s.charAt(pos++);
                }
                if (c < 0x20 && c != '\t' || c == 0x7f) {
                    throw error("control character in quoted string");
                }
                sb.append(c);
            }
            throw error("unterminated quoted string");
        }

        private void skipSpaces() {
            while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t')) {
                pos++;
            }
        }

        private void skipSeparators() {
            while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\t' || s.charAt(pos) == ',')) {
                pos++;
            }
        }

        private static boolean isTokenChar(char c) {
            return c > 0x20 && c < 0x7f && "()<>@,;:\\\"/[]?={} \t".indexOf(c) < 0;
        }

        private IllegalArgumentException error(String what) {
            String shown = s.length() > 120 ? s.substring(0, 117) + "..." : s;
            return new IllegalArgumentException("malformed WWW-Authenticate header at position " + pos + ": " + what
                    + " in '" + shown.replaceAll("[^\\x20-\\x7e]", "?") + "'");
        }
    }
}
