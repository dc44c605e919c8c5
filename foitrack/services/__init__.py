"""The rules of foitrack. Every function takes a Session, never commits, raises errors.DomainError."""
