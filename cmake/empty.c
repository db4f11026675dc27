/* Keeps a program library non-empty while its directory fills up. */
typedef int guts_empty_unit;
