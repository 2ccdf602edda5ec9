//! The live collector (written next).
