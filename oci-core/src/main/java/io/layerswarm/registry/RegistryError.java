package io.layerswarm.registry;

/**
 * One entry of a registry error body ({@code {"errors":[{"code":..,"message":..,"detail":..}]}}),
 * e.g. {@code BLOB_UNKNOWN}, {@code MANIFEST_INVALID}, {@code UNAUTHORIZED}, {@code DENIED}.
 *
 * @param code the OCI error code
 * @param message the human-readable message
 * @param detail the detail value as compact JSON text, or {@code null}
 */
public record RegistryError(String code, String message, String detail) {
    @Override
    public String toString() {
        return code + (message == null || message.isEmpty() ? "" : ": " + message);
    }
}
