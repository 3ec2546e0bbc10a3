/**
 * Page track's platform service provider interface: what the MMU and the other platform
 * bundles need from page track beyond the tracker API ({@code org.shadowbox.pagetrack}), and
 * what page track needs from the MMU. Platform only: a third-party bundle that imports this
 * package does not resolve (see docs/trust-model.md).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.shadowbox.pagetrack.spi;
