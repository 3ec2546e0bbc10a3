/**
 * The vm bundle's implementation: {@link org.shadowbox.vm.internal.HypervisorImpl} and
 * what it owns. Not exported. Outside OSGi (unit tests of other bundles), construct
 * {@code new HypervisorImpl()} and add listeners with
 * {@link org.shadowbox.vm.internal.HypervisorImpl#addVmListener} and
 * {@link org.shadowbox.vm.internal.HypervisorImpl#addWriteListener}.
 */
package org.shadowbox.vm.internal;
