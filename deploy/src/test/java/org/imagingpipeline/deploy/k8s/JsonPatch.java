package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** The RFC 6902 operations Kustomize's JSON patches use here: add, replace, remove, test. */
final class JsonPatch {
    private JsonPatch() {
    }

    static void apply(ObjectNode target, JsonNode ops, String source) {
        if (!ops.isArray()) throw new IllegalArgumentException(source + ": a JSON 6902 patch is a list of operations");
        for (JsonNode op : ops) {
            String kind = op.path("op").asText();
            String path = op.path("path").asText();
            List<String> tokens = tokens(path, source);
            String last = tokens.get(tokens.size() - 1);
            JsonNode parent = walk(target, tokens.subList(0, tokens.size() - 1), path, source);
            switch (kind) {
                case "add" -> add(parent, last, op.get("value").deepCopy(), path, source);
                case "replace" -> {
                    require(child(parent, last) != null, source, "replace " + path + ": nothing there");
                    set(parent, last, op.get("value").deepCopy());
                }
                case "remove" -> {
                    require(child(parent, last) != null, source, "remove " + path + ": nothing there");
                    if (parent instanceof ObjectNode o) o.remove(last);
                    else ((ArrayNode) parent).remove(Integer.parseInt(last));
                }
                case "test" -> require(op.get("value").equals(child(parent, last)), source,
                        "test " + path + " failed: expected " + op.get("value") + ", found " + child(parent, last));
                default -> throw new IllegalArgumentException(source + ": unsupported patch op '" + kind + "'");
            }
        }
    }

    private static List<String> tokens(String path, String source) {
        require(path.startsWith("/") && path.length() > 1, source, "bad JSON pointer '" + path + "'");
        List<String> out = new ArrayList<>();
        for (String t : path.substring(1).split("/", -1)) out.add(t.replace("~1", "/").replace("~0", "~"));
        return out;
    }

    private static JsonNode walk(JsonNode node, List<String> tokens, String path, String source) {
        JsonNode n = node;
        for (String t : tokens) {
            n = child(n, t);
            require(n != null && n.isContainerNode(), source, path + ": no container at '" + t + "'");
        }
        return n;
    }

    private static JsonNode child(JsonNode parent, String token) {
        if (parent instanceof ArrayNode a) {
            int i = index(token);
            return i >= 0 && i < a.size() ? a.get(i) : null;
        }
        return parent.get(token);
    }

    private static void add(JsonNode parent, String token, JsonNode value, String path, String source) {
        if (parent instanceof ObjectNode o) {
            o.set(token, value);
        } else {
            ArrayNode a = (ArrayNode) parent;
            if (token.equals("-")) {
                a.add(value);
            } else {
                int i = index(token);
                require(i >= 0 && i <= a.size(), source, "add " + path + ": index out of range");
                a.insert(i, value);
            }
        }
    }

    private static void set(JsonNode parent, String token, JsonNode value) {
        if (parent instanceof ObjectNode o) o.set(token, value);
        else ((ArrayNode) parent).set(index(token), value);
    }

    private static int index(String token) {
        return token.matches("\\d+") ? Integer.parseInt(token) : -1;
    }

    private static void require(boolean ok, String source, String message) {
        if (!ok) throw new IllegalStateException(source + ": " + message);
    }
}
