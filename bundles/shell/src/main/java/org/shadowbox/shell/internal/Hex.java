package org.shadowbox.shell.internal;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a record component as an unsigned 64-bit quantity (gfn, gpa, register, memory
 * value): the text renderer prints it as {@code 0x1234}, JSON as an unsigned decimal number.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
@interface Hex {
    /** Also print the decimal value: {@code 0x1234 (4660)}. */
    boolean decimal() default false;
}
