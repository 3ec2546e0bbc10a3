/**
 * What the page-track guard knows about the tracker bundles it calls: calls, failures,
 * timeouts, time spent, whether each notifier is disabled or isolated, and abandoned calls. Exported by the page-track
 * bundle (not the API bundle) for tools such as {@code plugin:list}; the notifier SPI itself
 * stays in {@link org.shadowbox.pagetrack}.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package org.shadowbox.pagetrack.guard;
