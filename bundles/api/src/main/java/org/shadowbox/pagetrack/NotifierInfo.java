package org.shadowbox.pagetrack;

/**
 * A notifier as the guard sees it.
 *
 * @param name      the implementing class
 * @param bundle    the symbolic name of the bundle that registered it
 * @param serviceId its OSGi service id (-1 if registered outside OSGi)
 * @param calls     calls made into it
 * @param failures  calls that threw
 * @param disabled  true once the guard deny-listed it
 * @param lastError the last failure, one line, or {@code null}
 * @param bundleId  the id of the bundle that registered it (-1 outside OSGi): what tells two
 *                  bundles of one symbolic name apart
 */
public record NotifierInfo(String name, String bundle, long serviceId, long calls, long failures,
        boolean disabled, String lastError, long bundleId) {

    /** The record as it was before {@code bundleId} (pagetrack 2.0): the bundle id unknown, -1. */
    public NotifierInfo(String name, String bundle, long serviceId, long calls, long failures,
            boolean disabled, String lastError) {
        this(name, bundle, serviceId, calls, failures, disabled, lastError, -1);
    }
}
