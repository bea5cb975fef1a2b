//! Malware scanning of attachments: the scanner interface, clamd over its socket, and the policy.
