package org.imagingpipeline.inference;

/**
 * The model a domain is served by.
 *
 * @param domainId the routing key the route came from ("default" for the source model)
 * @param version  the registry's version name
 * @param name     model name (e.g. lgg-flair-unet)
 * @param uri      where the ONNX file is
 * @param model    its loaded session (the file's SHA-256 matched the registry's)
 */
public record ModelRoute(String domainId, String version, String name, String uri, LoadedModel model) {
    public String sha256() {
        return model.sha256();
    }
}
