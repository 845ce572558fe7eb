package io.layerswarm.mirror;

/** What the HTTP mirror tells an observer (metrics) about the requests it answers. */
public interface MirrorListener {
    /**
     * A request was answered.
     *
     * @param route {@code base}, {@code manifest}, {@code blob} or {@code other}
     * @param method the HTTP method
     * @param status the response status
     * @param nanos from the request's arrival to its response headers being written
     */
    default void requestServed(String route, String method, int status, long nanos) {
    }
}
