package io.layerswarm.k8s.extender;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code ExtenderBindingResult}: empty {@code Error} on success.
 *
 * @param error the failure, or empty
 */
@JsonFormat(with = JsonFormat.Feature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
public record ExtenderBindingResult(@JsonProperty("Error") String error) {

    /** Maps a missing error to the empty string. */
    public ExtenderBindingResult {
        error = error == null ? "" : error;
    }

    /** The success result. */
    public static ExtenderBindingResult ok() {
        return new ExtenderBindingResult("");
    }
}
