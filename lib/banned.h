/*
 * Functions we never call: unbounded copies, silent number parsing and
 * tokenisers with hidden state.  Include this last, after every system header,
 * so that a use anywhere below becomes a compile error that names the reason.
 */
#ifndef GUTS_BANNED_H
#define GUTS_BANNED_H

#define GUTS_BANNED(func) sorry_##func##_is_banned_in_guts

#undef strcpy
#define strcpy(x, y) GUTS_BANNED(strcpy)
#undef strcat
#define strcat(x, y) GUTS_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) GUTS_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) GUTS_BANNED(strncat)
#undef sprintf
#define sprintf(...) GUTS_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) GUTS_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) GUTS_BANNED(strtok)
#undef gets
#define gets(x) GUTS_BANNED(gets)
#undef atoi
#define atoi(x) GUTS_BANNED(atoi)
#undef atol
#define atol(x) GUTS_BANNED(atol)
#undef atof
#define atof(x) GUTS_BANNED(atof)

#endif
