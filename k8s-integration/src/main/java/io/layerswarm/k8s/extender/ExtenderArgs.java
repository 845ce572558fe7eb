package io.layerswarm.k8s.extender;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeList;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@code ExtenderArgs} of {@code k8s.io/kube-scheduler/extender/v1}: the body of filter and prioritize
 * calls. The Go struct has no json tags, so the fields travel as {@code Pod}, {@code Nodes},
 * {@code NodeNames} and are read case-insensitively; the embedded Pod and NodeList keep their camelCase.
 * Exactly one of {@code nodes} (nodeCacheCapable false) and {@code nodeNames} (true) is set.
 *
 * @param pod the pod being scheduled
 * @param nodes candidate nodes as full objects, or {@code null}
 * @param nodeNames candidate node names, or {@code null}
 */
@JsonFormat(with = JsonFormat.Feature.ACCEPT_CASE_INSENSITIVE_PROPERTIES)
public record ExtenderArgs(@JsonProperty("Pod") Pod pod,
                           @JsonProperty("Nodes") NodeList nodes,
                           @JsonProperty("NodeNames") List<String> nodeNames) {

    /** Copies the names list; the fabric8 objects are taken as they are. */
    public ExtenderArgs {
        nodeNames = nodeNames == null ? null : List.copyOf(nodeNames);
    }

    /** Whether the scheduler sent names only, i.e. the extender is {@code nodeCacheCapable}. */
    public boolean nodeCacheCapable() {
        return nodes == null && nodeNames != null;
    }

    /**
     * The candidate node names in the order sent, from whichever field is set.
     *
     * @throws ExtenderRequestException if there is no pod or neither candidate field
     */
    public List<String> candidateNames() {
        if (pod == null) {
            throw new ExtenderRequestException("ExtenderArgs has no Pod");
        }
        if (nodeNames != null) {
            return nodeNames;
        }
        if (nodes == null || nodes.getItems() == null) {
            throw new ExtenderRequestException("ExtenderArgs has neither Nodes nor NodeNames");
        }
        List<String> names = new ArrayList<>(nodes.getItems().size());
        for (Node n : nodes.getItems()) {
            if (n == null || n.getMetadata() == null || n.getMetadata().getName() == null) {
                throw new ExtenderRequestException("ExtenderArgs.Nodes has an item without metadata.name");
            }
            names.add(n.getMetadata().getName());
        }
        return names;
    }

    /** The full node object named {@code name}, when the scheduler sent full objects. */
    public Node node(String name) {
        if (nodes == null || nodes.getItems() == null) {
            return null;
        }
        for (Node n : nodes.getItems()) {
            if (n != null && n.getMetadata() != null && Objects.equals(name, n.getMetadata().getName())) {
                return n;
            }
        }
        return null;
    }
}
