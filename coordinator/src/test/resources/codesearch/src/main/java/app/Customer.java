package app;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;

@Entity
public class Customer {
    @Column(name = "legacy_email")
    private String legacyEmail;

    @Column(name = "legacy_email_sent")
    private boolean legacyEmailSent;

    static final String EXPORT = "SELECT id, LEGACY_EMAIL FROM public.users WHERE id = ?";
    static final String SENT = "SELECT id FROM users WHERE legacy_email_sent";
}
