package org.imagingpipeline.inference;

import java.util.Optional;

/** Which model segments a domain's series: its own, else the default; empty when neither exists. */
public interface ModelRoutes {
    Optional<ModelRoute> route(String domainId);
}
