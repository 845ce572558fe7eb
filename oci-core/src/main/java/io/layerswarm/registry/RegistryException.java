package io.layerswarm.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A registry answered with an error status, or broke the protocol. Carries the HTTP status (0 when
 * the failure was not an HTTP status, e.g. a malformed header) and the OCI error codes parsed from
 * the error body. Content that does not match its digest fails with
 * {@link io.layerswarm.oci.DigestMismatchException} instead.
 */
public class RegistryException extends IOException {
    private final int status;
    private final List<RegistryError> errors;

    /** A failure with status and parsed errors. */
    public RegistryException(String message, int status, List<RegistryError> errors) {
        super(message);
        this.status = status;
        this.errors = List.copyOf(errors);
    }

    /** A protocol failure without HTTP status. */
    public RegistryException(String message) {
        this(message, 0, List.of());
    }

    /** A protocol failure with a cause. */
    public RegistryException(String message, Throwable cause) {
        super(message, cause);
        this.status = 0;
        this.errors = List.of();
    }

    /** The HTTP status, or 0 if the failure was not an error status. */
    public int status() {
        return status;
    }

    /** The OCI errors from the response body (possibly empty). */
    public List<RegistryError> errors() {
        return errors;
    }

    /** Whether any parsed error has this code, e.g. {@code BLOB_UNKNOWN}. */
    public boolean hasCode(String code) {
        return errors.stream().anyMatch(e -> code.equals(e.code()));
    }

    /**
     * Parses an OCI error body; returns an empty list for anything that is not one (bodies of
     * proxies, HTML pages, garbage).
     */
    static List<RegistryError> parseErrors(byte[] body) {
        if (body == null || body.length == 0) {
            return List.of();
        }
        try {
            JsonNode root = JSON.readTree(body);
            JsonNode errs = root == null ? null : root.get("errors");
            if (errs == null || !errs.isArray()) {
                return List.of();
            }
            List<RegistryError> out = new ArrayList<>();
            for (JsonNode e : errs) {
                if (!e.isObject() || out.size() >= 16) {
                    continue;
                }
                JsonNode code = e.get("code");
                JsonNode msg = e.get("message");
                JsonNode detail = e.get("detail");
                out.add(new RegistryError(code != null && code.isTextual() ? code.textValue() : "UNKNOWN",
                        msg != null && msg.isTextual() ? msg.textValue() : "",
                        detail == null || detail.isNull() ? null : abbreviate(detail.toString())));
            }
            return out;
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 197) + "...";
    }

    /** A short text form of a non-JSON body, for messages. */
    static String bodySnippet(byte[] body) {
        if (body == null || body.length == 0) {
            return "";
        }
        String s = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        return s.chars().allMatch(c -> c >= 32 && c < 127) ? s : "(" + body.length + " bytes of non-text)";
    }

    private static final ObjectMapper JSON = new ObjectMapper();
}
