package io.layerswarm.k8s.extender;

/** Binds a pod to the node the scheduler chose. */
public interface PodBinder {

    /**
     * Binds, throwing with a readable message on failure.
     *
     * @param args the scheduler's binding request, validated
     */
    void bind(ExtenderBindingArgs args);
}
