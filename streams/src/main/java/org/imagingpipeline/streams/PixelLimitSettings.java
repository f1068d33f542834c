package org.imagingpipeline.streams;

import io.smallrye.config.ConfigMapping;
import org.imagingpipeline.dicomnet.PixelDataLimits;

/** {@code streams.pixels.*} in application.properties: the caps on an instance's pixel data before it is decoded. */
@ConfigMapping(prefix = "streams.pixels")
public interface PixelLimitSettings {
    int maxRows();

    int maxColumns();

    /** Rows x Columns of one frame. */
    long maxPixels();

    int maxFrames();

    /** Decoded bytes of all frames. */
    long maxBytes();

    default PixelDataLimits limits() {
        return new PixelDataLimits(maxRows(), maxColumns(), maxPixels(), maxFrames(), maxBytes());
    }
}
