/*
 * Unicode case mapping for the expression language.  GitHub compares strings
 * with JavaScript's toUpperCase() (except that the dotless i stays as it is)
 * and looks object keys up with toLowerCase(), so 'ß' == 'SS' and
 * endsWith('asdf_ς', 'Σ') hold.  These tables are JavaScript's full per-code-
 * point mappings for everything outside ASCII, generated from Node 20's
 * String.prototype.toUpperCase/toLowerCase with this script:
 *
 *   for cp in 0x80..0x10FFFF (not surrogates):
 *     m = String.fromCodePoint(cp)[fn]()
 *     one code point   -> a {start, end, delta, stride} run of equal deltas
 *                         (stride 2 for the alternating Latin/Greek pairs)
 *     several          -> a multi entry (at most 3 code points)
 *
 * Final sigma (toLowerCase maps Σ to ς at the end of a word) is handled in
 * code.  Invalid UTF-8 bytes are carried through unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/buf.h"
#include "workflow/expr_internal.h"
#include "banned.h"

struct case_range {
	uint32_t start;
	uint32_t end;
	int32_t delta;
	uint32_t stride;
};

struct case_multi {
	uint32_t cp;
	uint32_t to[3];
};

static const struct case_range upper_ranges[] = {
    {0x00B5, 0x00B5, 743, 1},	 {0x00E0, 0x00F6, -32, 1},
    {0x00F8, 0x00FE, -32, 1},	 {0x00FF, 0x00FF, 121, 1},
    {0x0101, 0x012F, -1, 2},	 {0x0131, 0x0131, -232, 1},
    {0x0133, 0x0137, -1, 2},	 {0x013A, 0x0148, -1, 2},
    {0x014B, 0x0177, -1, 2},	 {0x017A, 0x017E, -1, 2},
    {0x017F, 0x017F, -300, 1},	 {0x0180, 0x0180, 195, 1},
    {0x0183, 0x0185, -1, 2},	 {0x0188, 0x0188, -1, 1},
    {0x018C, 0x018C, -1, 1},	 {0x0192, 0x0192, -1, 1},
    {0x0195, 0x0195, 97, 1},	 {0x0199, 0x0199, -1, 1},
    {0x019A, 0x019A, 163, 1},	 {0x019B, 0x019B, 42561, 1},
    {0x019E, 0x019E, 130, 1},	 {0x01A1, 0x01A5, -1, 2},
    {0x01A8, 0x01A8, -1, 1},	 {0x01AD, 0x01AD, -1, 1},
    {0x01B0, 0x01B0, -1, 1},	 {0x01B4, 0x01B6, -1, 2},
    {0x01B9, 0x01B9, -1, 1},	 {0x01BD, 0x01BD, -1, 1},
    {0x01BF, 0x01BF, 56, 1},	 {0x01C5, 0x01C5, -1, 1},
    {0x01C6, 0x01C6, -2, 1},	 {0x01C8, 0x01C8, -1, 1},
    {0x01C9, 0x01C9, -2, 1},	 {0x01CB, 0x01CB, -1, 1},
    {0x01CC, 0x01CC, -2, 1},	 {0x01CE, 0x01DC, -1, 2},
    {0x01DD, 0x01DD, -79, 1},	 {0x01DF, 0x01EF, -1, 2},
    {0x01F2, 0x01F2, -1, 1},	 {0x01F3, 0x01F3, -2, 1},
    {0x01F5, 0x01F5, -1, 1},	 {0x01F9, 0x021F, -1, 2},
    {0x0223, 0x0233, -1, 2},	 {0x023C, 0x023C, -1, 1},
    {0x023F, 0x0240, 10815, 1},	 {0x0242, 0x0242, -1, 1},
    {0x0247, 0x024F, -1, 2},	 {0x0250, 0x0250, 10783, 1},
    {0x0251, 0x0251, 10780, 1},	 {0x0252, 0x0252, 10782, 1},
    {0x0253, 0x0253, -210, 1},	 {0x0254, 0x0254, -206, 1},
    {0x0256, 0x0257, -205, 1},	 {0x0259, 0x0259, -202, 1},
    {0x025B, 0x025B, -203, 1},	 {0x025C, 0x025C, 42319, 1},
    {0x0260, 0x0260, -205, 1},	 {0x0261, 0x0261, 42315, 1},
    {0x0263, 0x0263, -207, 1},	 {0x0264, 0x0264, 42343, 1},
    {0x0265, 0x0265, 42280, 1},	 {0x0266, 0x0266, 42308, 1},
    {0x0268, 0x0268, -209, 1},	 {0x0269, 0x0269, -211, 1},
    {0x026A, 0x026A, 42308, 1},	 {0x026B, 0x026B, 10743, 1},
    {0x026C, 0x026C, 42305, 1},	 {0x026F, 0x026F, -211, 1},
    {0x0271, 0x0271, 10749, 1},	 {0x0272, 0x0272, -213, 1},
    {0x0275, 0x0275, -214, 1},	 {0x027D, 0x027D, 10727, 1},
    {0x0280, 0x0280, -218, 1},	 {0x0282, 0x0282, 42307, 1},
    {0x0283, 0x0283, -218, 1},	 {0x0287, 0x0287, 42282, 1},
    {0x0288, 0x0288, -218, 1},	 {0x0289, 0x0289, -69, 1},
    {0x028A, 0x028B, -217, 1},	 {0x028C, 0x028C, -71, 1},
    {0x0292, 0x0292, -219, 1},	 {0x029D, 0x029D, 42261, 1},
    {0x029E, 0x029E, 42258, 1},	 {0x0345, 0x0345, 84, 1},
    {0x0371, 0x0373, -1, 2},	 {0x0377, 0x0377, -1, 1},
    {0x037B, 0x037D, 130, 1},	 {0x03AC, 0x03AC, -38, 1},
    {0x03AD, 0x03AF, -37, 1},	 {0x03B1, 0x03C1, -32, 1},
    {0x03C2, 0x03C2, -31, 1},	 {0x03C3, 0x03CB, -32, 1},
    {0x03CC, 0x03CC, -64, 1},	 {0x03CD, 0x03CE, -63, 1},
    {0x03D0, 0x03D0, -62, 1},	 {0x03D1, 0x03D1, -57, 1},
    {0x03D5, 0x03D5, -47, 1},	 {0x03D6, 0x03D6, -54, 1},
    {0x03D7, 0x03D7, -8, 1},	 {0x03D9, 0x03EF, -1, 2},
    {0x03F0, 0x03F0, -86, 1},	 {0x03F1, 0x03F1, -80, 1},
    {0x03F2, 0x03F2, 7, 1},	 {0x03F3, 0x03F3, -116, 1},
    {0x03F5, 0x03F5, -96, 1},	 {0x03F8, 0x03F8, -1, 1},
    {0x03FB, 0x03FB, -1, 1},	 {0x0430, 0x044F, -32, 1},
    {0x0450, 0x045F, -80, 1},	 {0x0461, 0x0481, -1, 2},
    {0x048B, 0x04BF, -1, 2},	 {0x04C2, 0x04CE, -1, 2},
    {0x04CF, 0x04CF, -15, 1},	 {0x04D1, 0x052F, -1, 2},
    {0x0561, 0x0586, -48, 1},	 {0x10D0, 0x10FA, 3008, 1},
    {0x10FD, 0x10FF, 3008, 1},	 {0x13F8, 0x13FD, -8, 1},
    {0x1C80, 0x1C80, -6254, 1},	 {0x1C81, 0x1C81, -6253, 1},
    {0x1C82, 0x1C82, -6244, 1},	 {0x1C83, 0x1C84, -6242, 1},
    {0x1C85, 0x1C85, -6243, 1},	 {0x1C86, 0x1C86, -6236, 1},
    {0x1C87, 0x1C87, -6181, 1},	 {0x1C88, 0x1C88, 35266, 1},
    {0x1C8A, 0x1C8A, -1, 1},	 {0x1D79, 0x1D79, 35332, 1},
    {0x1D7D, 0x1D7D, 3814, 1},	 {0x1D8E, 0x1D8E, 35384, 1},
    {0x1E01, 0x1E95, -1, 2},	 {0x1E9B, 0x1E9B, -59, 1},
    {0x1EA1, 0x1EFF, -1, 2},	 {0x1F00, 0x1F07, 8, 1},
    {0x1F10, 0x1F15, 8, 1},	 {0x1F20, 0x1F27, 8, 1},
    {0x1F30, 0x1F37, 8, 1},	 {0x1F40, 0x1F45, 8, 1},
    {0x1F51, 0x1F57, 8, 2},	 {0x1F60, 0x1F67, 8, 1},
    {0x1F70, 0x1F71, 74, 1},	 {0x1F72, 0x1F75, 86, 1},
    {0x1F76, 0x1F77, 100, 1},	 {0x1F78, 0x1F79, 128, 1},
    {0x1F7A, 0x1F7B, 112, 1},	 {0x1F7C, 0x1F7D, 126, 1},
    {0x1FB0, 0x1FB1, 8, 1},	 {0x1FBE, 0x1FBE, -7205, 1},
    {0x1FD0, 0x1FD1, 8, 1},	 {0x1FE0, 0x1FE1, 8, 1},
    {0x1FE5, 0x1FE5, 7, 1},	 {0x214E, 0x214E, -28, 1},
    {0x2170, 0x217F, -16, 1},	 {0x2184, 0x2184, -1, 1},
    {0x24D0, 0x24E9, -26, 1},	 {0x2C30, 0x2C5F, -48, 1},
    {0x2C61, 0x2C61, -1, 1},	 {0x2C65, 0x2C65, -10795, 1},
    {0x2C66, 0x2C66, -10792, 1}, {0x2C68, 0x2C6C, -1, 2},
    {0x2C73, 0x2C73, -1, 1},	 {0x2C76, 0x2C76, -1, 1},
    {0x2C81, 0x2CE3, -1, 2},	 {0x2CEC, 0x2CEE, -1, 2},
    {0x2CF3, 0x2CF3, -1, 1},	 {0x2D00, 0x2D25, -7264, 1},
    {0x2D27, 0x2D27, -7264, 1},	 {0x2D2D, 0x2D2D, -7264, 1},
    {0xA641, 0xA66D, -1, 2},	 {0xA681, 0xA69B, -1, 2},
    {0xA723, 0xA72F, -1, 2},	 {0xA733, 0xA76F, -1, 2},
    {0xA77A, 0xA77C, -1, 2},	 {0xA77F, 0xA787, -1, 2},
    {0xA78C, 0xA78C, -1, 1},	 {0xA791, 0xA793, -1, 2},
    {0xA794, 0xA794, 48, 1},	 {0xA797, 0xA7A9, -1, 2},
    {0xA7B5, 0xA7C3, -1, 2},	 {0xA7C8, 0xA7CA, -1, 2},
    {0xA7CD, 0xA7DB, -1, 2},	 {0xA7F6, 0xA7F6, -1, 1},
    {0xAB53, 0xAB53, -928, 1},	 {0xAB70, 0xABBF, -38864, 1},
    {0xFF41, 0xFF5A, -32, 1},	 {0x10428, 0x1044F, -40, 1},
    {0x104D8, 0x104FB, -40, 1},	 {0x10597, 0x105A1, -39, 1},
    {0x105A3, 0x105B1, -39, 1},	 {0x105B3, 0x105B9, -39, 1},
    {0x105BB, 0x105BC, -39, 1},	 {0x10CC0, 0x10CF2, -64, 1},
    {0x10D70, 0x10D85, -32, 1},	 {0x118C0, 0x118DF, -32, 1},
    {0x16E60, 0x16E7F, -32, 1},	 {0x16EBB, 0x16ED3, -27, 1},
    {0x1E922, 0x1E943, -34, 1},
};

static const struct case_multi upper_multi[] = {
    {0x00DF, {0x0053, 0x0053}},		{0x0149, {0x02BC, 0x004E}},
    {0x01F0, {0x004A, 0x030C}},		{0x0390, {0x0399, 0x0308, 0x0301}},
    {0x03B0, {0x03A5, 0x0308, 0x0301}}, {0x0587, {0x0535, 0x0552}},
    {0x1E96, {0x0048, 0x0331}},		{0x1E97, {0x0054, 0x0308}},
    {0x1E98, {0x0057, 0x030A}},		{0x1E99, {0x0059, 0x030A}},
    {0x1E9A, {0x0041, 0x02BE}},		{0x1F50, {0x03A5, 0x0313}},
    {0x1F52, {0x03A5, 0x0313, 0x0300}}, {0x1F54, {0x03A5, 0x0313, 0x0301}},
    {0x1F56, {0x03A5, 0x0313, 0x0342}}, {0x1F80, {0x1F08, 0x0399}},
    {0x1F81, {0x1F09, 0x0399}},		{0x1F82, {0x1F0A, 0x0399}},
    {0x1F83, {0x1F0B, 0x0399}},		{0x1F84, {0x1F0C, 0x0399}},
    {0x1F85, {0x1F0D, 0x0399}},		{0x1F86, {0x1F0E, 0x0399}},
    {0x1F87, {0x1F0F, 0x0399}},		{0x1F88, {0x1F08, 0x0399}},
    {0x1F89, {0x1F09, 0x0399}},		{0x1F8A, {0x1F0A, 0x0399}},
    {0x1F8B, {0x1F0B, 0x0399}},		{0x1F8C, {0x1F0C, 0x0399}},
    {0x1F8D, {0x1F0D, 0x0399}},		{0x1F8E, {0x1F0E, 0x0399}},
    {0x1F8F, {0x1F0F, 0x0399}},		{0x1F90, {0x1F28, 0x0399}},
    {0x1F91, {0x1F29, 0x0399}},		{0x1F92, {0x1F2A, 0x0399}},
    {0x1F93, {0x1F2B, 0x0399}},		{0x1F94, {0x1F2C, 0x0399}},
    {0x1F95, {0x1F2D, 0x0399}},		{0x1F96, {0x1F2E, 0x0399}},
    {0x1F97, {0x1F2F, 0x0399}},		{0x1F98, {0x1F28, 0x0399}},
    {0x1F99, {0x1F29, 0x0399}},		{0x1F9A, {0x1F2A, 0x0399}},
    {0x1F9B, {0x1F2B, 0x0399}},		{0x1F9C, {0x1F2C, 0x0399}},
    {0x1F9D, {0x1F2D, 0x0399}},		{0x1F9E, {0x1F2E, 0x0399}},
    {0x1F9F, {0x1F2F, 0x0399}},		{0x1FA0, {0x1F68, 0x0399}},
    {0x1FA1, {0x1F69, 0x0399}},		{0x1FA2, {0x1F6A, 0x0399}},
    {0x1FA3, {0x1F6B, 0x0399}},		{0x1FA4, {0x1F6C, 0x0399}},
    {0x1FA5, {0x1F6D, 0x0399}},		{0x1FA6, {0x1F6E, 0x0399}},
    {0x1FA7, {0x1F6F, 0x0399}},		{0x1FA8, {0x1F68, 0x0399}},
    {0x1FA9, {0x1F69, 0x0399}},		{0x1FAA, {0x1F6A, 0x0399}},
    {0x1FAB, {0x1F6B, 0x0399}},		{0x1FAC, {0x1F6C, 0x0399}},
    {0x1FAD, {0x1F6D, 0x0399}},		{0x1FAE, {0x1F6E, 0x0399}},
    {0x1FAF, {0x1F6F, 0x0399}},		{0x1FB2, {0x1FBA, 0x0399}},
    {0x1FB3, {0x0391, 0x0399}},		{0x1FB4, {0x0386, 0x0399}},
    {0x1FB6, {0x0391, 0x0342}},		{0x1FB7, {0x0391, 0x0342, 0x0399}},
    {0x1FBC, {0x0391, 0x0399}},		{0x1FC2, {0x1FCA, 0x0399}},
    {0x1FC3, {0x0397, 0x0399}},		{0x1FC4, {0x0389, 0x0399}},
    {0x1FC6, {0x0397, 0x0342}},		{0x1FC7, {0x0397, 0x0342, 0x0399}},
    {0x1FCC, {0x0397, 0x0399}},		{0x1FD2, {0x0399, 0x0308, 0x0300}},
    {0x1FD3, {0x0399, 0x0308, 0x0301}}, {0x1FD6, {0x0399, 0x0342}},
    {0x1FD7, {0x0399, 0x0308, 0x0342}}, {0x1FE2, {0x03A5, 0x0308, 0x0300}},
    {0x1FE3, {0x03A5, 0x0308, 0x0301}}, {0x1FE4, {0x03A1, 0x0313}},
    {0x1FE6, {0x03A5, 0x0342}},		{0x1FE7, {0x03A5, 0x0308, 0x0342}},
    {0x1FF2, {0x1FFA, 0x0399}},		{0x1FF3, {0x03A9, 0x0399}},
    {0x1FF4, {0x038F, 0x0399}},		{0x1FF6, {0x03A9, 0x0342}},
    {0x1FF7, {0x03A9, 0x0342, 0x0399}}, {0x1FFC, {0x03A9, 0x0399}},
    {0xFB00, {0x0046, 0x0046}},		{0xFB01, {0x0046, 0x0049}},
    {0xFB02, {0x0046, 0x004C}},		{0xFB03, {0x0046, 0x0046, 0x0049}},
    {0xFB04, {0x0046, 0x0046, 0x004C}}, {0xFB05, {0x0053, 0x0054}},
    {0xFB06, {0x0053, 0x0054}},		{0xFB13, {0x0544, 0x0546}},
    {0xFB14, {0x0544, 0x0535}},		{0xFB15, {0x0544, 0x053B}},
    {0xFB16, {0x054E, 0x0546}},		{0xFB17, {0x0544, 0x053D}},
};

static const struct case_range lower_ranges[] = {
    {0x00C0, 0x00D6, 32, 1},	 {0x00D8, 0x00DE, 32, 1},
    {0x0100, 0x012E, 1, 2},	 {0x0132, 0x0136, 1, 2},
    {0x0139, 0x0147, 1, 2},	 {0x014A, 0x0176, 1, 2},
    {0x0178, 0x0178, -121, 1},	 {0x0179, 0x017D, 1, 2},
    {0x0181, 0x0181, 210, 1},	 {0x0182, 0x0184, 1, 2},
    {0x0186, 0x0186, 206, 1},	 {0x0187, 0x0187, 1, 1},
    {0x0189, 0x018A, 205, 1},	 {0x018B, 0x018B, 1, 1},
    {0x018E, 0x018E, 79, 1},	 {0x018F, 0x018F, 202, 1},
    {0x0190, 0x0190, 203, 1},	 {0x0191, 0x0191, 1, 1},
    {0x0193, 0x0193, 205, 1},	 {0x0194, 0x0194, 207, 1},
    {0x0196, 0x0196, 211, 1},	 {0x0197, 0x0197, 209, 1},
    {0x0198, 0x0198, 1, 1},	 {0x019C, 0x019C, 211, 1},
    {0x019D, 0x019D, 213, 1},	 {0x019F, 0x019F, 214, 1},
    {0x01A0, 0x01A4, 1, 2},	 {0x01A6, 0x01A6, 218, 1},
    {0x01A7, 0x01A7, 1, 1},	 {0x01A9, 0x01A9, 218, 1},
    {0x01AC, 0x01AC, 1, 1},	 {0x01AE, 0x01AE, 218, 1},
    {0x01AF, 0x01AF, 1, 1},	 {0x01B1, 0x01B2, 217, 1},
    {0x01B3, 0x01B5, 1, 2},	 {0x01B7, 0x01B7, 219, 1},
    {0x01B8, 0x01B8, 1, 1},	 {0x01BC, 0x01BC, 1, 1},
    {0x01C4, 0x01C4, 2, 1},	 {0x01C5, 0x01C5, 1, 1},
    {0x01C7, 0x01C7, 2, 1},	 {0x01C8, 0x01C8, 1, 1},
    {0x01CA, 0x01CA, 2, 1},	 {0x01CB, 0x01DB, 1, 2},
    {0x01DE, 0x01EE, 1, 2},	 {0x01F1, 0x01F1, 2, 1},
    {0x01F2, 0x01F4, 1, 2},	 {0x01F6, 0x01F6, -97, 1},
    {0x01F7, 0x01F7, -56, 1},	 {0x01F8, 0x021E, 1, 2},
    {0x0220, 0x0220, -130, 1},	 {0x0222, 0x0232, 1, 2},
    {0x023A, 0x023A, 10795, 1},	 {0x023B, 0x023B, 1, 1},
    {0x023D, 0x023D, -163, 1},	 {0x023E, 0x023E, 10792, 1},
    {0x0241, 0x0241, 1, 1},	 {0x0243, 0x0243, -195, 1},
    {0x0244, 0x0244, 69, 1},	 {0x0245, 0x0245, 71, 1},
    {0x0246, 0x024E, 1, 2},	 {0x0370, 0x0372, 1, 2},
    {0x0376, 0x0376, 1, 1},	 {0x037F, 0x037F, 116, 1},
    {0x0386, 0x0386, 38, 1},	 {0x0388, 0x038A, 37, 1},
    {0x038C, 0x038C, 64, 1},	 {0x038E, 0x038F, 63, 1},
    {0x0391, 0x03A1, 32, 1},	 {0x03A3, 0x03AB, 32, 1},
    {0x03CF, 0x03CF, 8, 1},	 {0x03D8, 0x03EE, 1, 2},
    {0x03F4, 0x03F4, -60, 1},	 {0x03F7, 0x03F7, 1, 1},
    {0x03F9, 0x03F9, -7, 1},	 {0x03FA, 0x03FA, 1, 1},
    {0x03FD, 0x03FF, -130, 1},	 {0x0400, 0x040F, 80, 1},
    {0x0410, 0x042F, 32, 1},	 {0x0460, 0x0480, 1, 2},
    {0x048A, 0x04BE, 1, 2},	 {0x04C0, 0x04C0, 15, 1},
    {0x04C1, 0x04CD, 1, 2},	 {0x04D0, 0x052E, 1, 2},
    {0x0531, 0x0556, 48, 1},	 {0x10A0, 0x10C5, 7264, 1},
    {0x10C7, 0x10C7, 7264, 1},	 {0x10CD, 0x10CD, 7264, 1},
    {0x13A0, 0x13EF, 38864, 1},	 {0x13F0, 0x13F5, 8, 1},
    {0x1C89, 0x1C89, 1, 1},	 {0x1C90, 0x1CBA, -3008, 1},
    {0x1CBD, 0x1CBF, -3008, 1},	 {0x1E00, 0x1E94, 1, 2},
    {0x1E9E, 0x1E9E, -7615, 1},	 {0x1EA0, 0x1EFE, 1, 2},
    {0x1F08, 0x1F0F, -8, 1},	 {0x1F18, 0x1F1D, -8, 1},
    {0x1F28, 0x1F2F, -8, 1},	 {0x1F38, 0x1F3F, -8, 1},
    {0x1F48, 0x1F4D, -8, 1},	 {0x1F59, 0x1F5F, -8, 2},
    {0x1F68, 0x1F6F, -8, 1},	 {0x1F88, 0x1F8F, -8, 1},
    {0x1F98, 0x1F9F, -8, 1},	 {0x1FA8, 0x1FAF, -8, 1},
    {0x1FB8, 0x1FB9, -8, 1},	 {0x1FBA, 0x1FBB, -74, 1},
    {0x1FBC, 0x1FBC, -9, 1},	 {0x1FC8, 0x1FCB, -86, 1},
    {0x1FCC, 0x1FCC, -9, 1},	 {0x1FD8, 0x1FD9, -8, 1},
    {0x1FDA, 0x1FDB, -100, 1},	 {0x1FE8, 0x1FE9, -8, 1},
    {0x1FEA, 0x1FEB, -112, 1},	 {0x1FEC, 0x1FEC, -7, 1},
    {0x1FF8, 0x1FF9, -128, 1},	 {0x1FFA, 0x1FFB, -126, 1},
    {0x1FFC, 0x1FFC, -9, 1},	 {0x2126, 0x2126, -7517, 1},
    {0x212A, 0x212A, -8383, 1},	 {0x212B, 0x212B, -8262, 1},
    {0x2132, 0x2132, 28, 1},	 {0x2160, 0x216F, 16, 1},
    {0x2183, 0x2183, 1, 1},	 {0x24B6, 0x24CF, 26, 1},
    {0x2C00, 0x2C2F, 48, 1},	 {0x2C60, 0x2C60, 1, 1},
    {0x2C62, 0x2C62, -10743, 1}, {0x2C63, 0x2C63, -3814, 1},
    {0x2C64, 0x2C64, -10727, 1}, {0x2C67, 0x2C6B, 1, 2},
    {0x2C6D, 0x2C6D, -10780, 1}, {0x2C6E, 0x2C6E, -10749, 1},
    {0x2C6F, 0x2C6F, -10783, 1}, {0x2C70, 0x2C70, -10782, 1},
    {0x2C72, 0x2C72, 1, 1},	 {0x2C75, 0x2C75, 1, 1},
    {0x2C7E, 0x2C7F, -10815, 1}, {0x2C80, 0x2CE2, 1, 2},
    {0x2CEB, 0x2CED, 1, 2},	 {0x2CF2, 0x2CF2, 1, 1},
    {0xA640, 0xA66C, 1, 2},	 {0xA680, 0xA69A, 1, 2},
    {0xA722, 0xA72E, 1, 2},	 {0xA732, 0xA76E, 1, 2},
    {0xA779, 0xA77B, 1, 2},	 {0xA77D, 0xA77D, -35332, 1},
    {0xA77E, 0xA786, 1, 2},	 {0xA78B, 0xA78B, 1, 1},
    {0xA78D, 0xA78D, -42280, 1}, {0xA790, 0xA792, 1, 2},
    {0xA796, 0xA7A8, 1, 2},	 {0xA7AA, 0xA7AA, -42308, 1},
    {0xA7AB, 0xA7AB, -42319, 1}, {0xA7AC, 0xA7AC, -42315, 1},
    {0xA7AD, 0xA7AD, -42305, 1}, {0xA7AE, 0xA7AE, -42308, 1},
    {0xA7B0, 0xA7B0, -42258, 1}, {0xA7B1, 0xA7B1, -42282, 1},
    {0xA7B2, 0xA7B2, -42261, 1}, {0xA7B3, 0xA7B3, 928, 1},
    {0xA7B4, 0xA7C2, 1, 2},	 {0xA7C4, 0xA7C4, -48, 1},
    {0xA7C5, 0xA7C5, -42307, 1}, {0xA7C6, 0xA7C6, -35384, 1},
    {0xA7C7, 0xA7C9, 1, 2},	 {0xA7CB, 0xA7CB, -42343, 1},
    {0xA7CC, 0xA7DA, 1, 2},	 {0xA7DC, 0xA7DC, -42561, 1},
    {0xA7F5, 0xA7F5, 1, 1},	 {0xFF21, 0xFF3A, 32, 1},
    {0x10400, 0x10427, 40, 1},	 {0x104B0, 0x104D3, 40, 1},
    {0x10570, 0x1057A, 39, 1},	 {0x1057C, 0x1058A, 39, 1},
    {0x1058C, 0x10592, 39, 1},	 {0x10594, 0x10595, 39, 1},
    {0x10C80, 0x10CB2, 64, 1},	 {0x10D50, 0x10D65, 32, 1},
    {0x118A0, 0x118BF, 32, 1},	 {0x16E40, 0x16E5F, 32, 1},
    {0x16EA0, 0x16EB8, 27, 1},	 {0x1E900, 0x1E921, 34, 1},
};

static const struct case_multi lower_multi[] = {
    {0x0130, {0x0069, 0x0307}},
};

static int case_cmp_multi(const void *key, const void *elem)
{
	uint32_t cp = *(const uint32_t *)key;
	const struct case_multi *m = elem;

	return cp < m->cp ? -1 : cp > m->cp;
}

static int case_cmp_range(const void *key, const void *elem)
{
	uint32_t cp = *(const uint32_t *)key;
	const struct case_range *r = elem;

	if (cp < r->start)
		return -1;
	return cp > r->end;
}

/*
 * Map one non-ASCII code point; returns how many code points went to @to
 * (1 when it maps to itself).
 */
static size_t map_cp(uint32_t cp, int upper, uint32_t to[3])
{
	const struct case_multi *m;
	const struct case_range *r;
	const struct case_multi *mt = upper ? upper_multi : lower_multi;
	size_t nm = upper ? sizeof(upper_multi) / sizeof(upper_multi[0])
			  : sizeof(lower_multi) / sizeof(lower_multi[0]);
	const struct case_range *rt = upper ? upper_ranges : lower_ranges;
	size_t nr = upper ? sizeof(upper_ranges) / sizeof(upper_ranges[0])
			  : sizeof(lower_ranges) / sizeof(lower_ranges[0]);

	m = bsearch(&cp, mt, nm, sizeof(*mt), case_cmp_multi);
	if (m) {
		size_t n = 0;

		while (n < 3 && m->to[n])
			to[n] = m->to[n], n++;
		return n;
	}
	r = bsearch(&cp, rt, nr, sizeof(*rt), case_cmp_range);
	if (r && (cp - r->start) % r->stride == 0) {
		to[0] = (uint32_t)((int32_t)cp + r->delta);
		return 1;
	}
	to[0] = cp;
	return 1;
}

size_t guts__expr_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c;
	size_t n, i;

	if (!len)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07;
	else
		goto invalid;
	if (n > len)
		goto invalid;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto invalid;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		goto invalid;
	*cp = c;
	return n;
invalid:
	*cp = GUTS__EXPR_INVALID_CP;
	return 1;
}

static void put_utf8(struct guts_buf *b, uint32_t c)
{
	char u[4];

	if (c < 0x80) {
		u[0] = (char)c;
		guts_buf_add(b, u, 1);
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		guts_buf_add(b, u, 2);
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		guts_buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		guts_buf_add(b, u, 4);
	}
}

/* A letter with case: it maps somewhere in one direction or the other. */
static int is_cased(uint32_t cp)
{
	uint32_t to[3];

	if (cp < 0x80)
		return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
	if (cp == GUTS__EXPR_INVALID_CP)
		return 0;
	return map_cp(cp, 1, to) != 1 || to[0] != cp ||
	       map_cp(cp, 0, to) != 1 || to[0] != cp;
}

/*
 * Final sigma: JavaScript lowercases Σ to ς when a cased letter precedes it
 * and none follows.
 */
static int final_sigma(const unsigned char *s, size_t len, size_t at)
{
	size_t i = at, n;
	uint32_t cp;
	int before = 0;

	/* Scan back to the previous code point's start. */
	while (i > 0) {
		i--;
		if ((s[i] & 0xc0) != 0x80)
			break;
	}
	if (i < at) {
		guts__expr_utf8_decode(s + i, at - i, &cp);
		before = is_cased(cp);
	}
	if (!before)
		return 0;
	n = guts__expr_utf8_decode(s + at, len - at, &cp);
	if (at + n >= len)
		return 1;
	guts__expr_utf8_decode(s + at + n, len - at - n, &cp);
	return !is_cased(cp);
}

int guts__expr_is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

void guts__expr_case_map(struct guts_buf *out, const char *str, size_t len,
			 int upper)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	guts_buf_grow(out, len);
	while (i < len) {
		uint32_t cp, to[3];
		size_t n, k, m;

		if (s[i] < 0x80) {
			char c = (char)s[i];

			if (upper && c >= 'a' && c <= 'z')
				c = (char)(c - 32);
			else if (!upper && c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			guts_buf_addch(out, c);
			i++;
			continue;
		}
		n = guts__expr_utf8_decode(s + i, len - i, &cp);
		if (cp == GUTS__EXPR_INVALID_CP) {
			guts_buf_add(out, s + i, 1);
			i++;
			continue;
		}
		if (upper && cp == 0x0131) {
			/* GitHub keeps the dotless i (toUpperSpecial). */
			m = 1;
			to[0] = cp;
		} else if (!upper && cp == 0x03a3) {
			m = 1;
			to[0] = final_sigma(s, len, i) ? 0x03c2 : 0x03c3;
		} else {
			m = map_cp(cp, upper, to);
		}
		for (k = 0; k < m; k++)
			put_utf8(out, to[k]);
		i += n;
	}
}

static unsigned char ascii_upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

static unsigned char ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/*
 * Compare UTF-8 byte strings in UTF-16 code unit order, as JavaScript's <
 * does: byte order equals code point order, which differs from UTF-16 order
 * only between supplementary characters (4-byte sequences, surrogates in
 * UTF-16) and U+E000..U+FFFF (3-byte sequences starting EE or EF).
 */
static int utf16_order_cmp(const unsigned char *a, size_t alen,
			   const unsigned char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen, i;
	size_t sa, sb;

	for (i = 0; i < n && a[i] == b[i]; i++)
		;
	if (i == n)
		return alen < blen ? -1 : alen > blen;
	/* Find the lead byte of the differing code point in each. */
	sa = i;
	while (sa > 0 && (a[sa] & 0xc0) == 0x80)
		sa--;
	sb = sa;
	if (a[sa] >= 0xf0 && b[sb] >= 0xee && b[sb] <= 0xef)
		return -1;
	if (b[sb] >= 0xf0 && a[sa] >= 0xee && a[sa] <= 0xef)
		return 1;
	return a[i] < b[i] ? -1 : 1;
}

/*
 * Compare the ASCII prefix of two strings after case folding.  Returns
 * -2 when a non-ASCII byte comes first (the caller maps the full strings),
 * else <0, 0 or >0.  Folding is per code point and never maps a character
 * to nothing, so the first ASCII difference decides, and so does the end
 * of the shorter string.
 */
static int fast_fold_cmp(const char *a, size_t alen, const char *b, size_t blen,
			 int upper)
{
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++) {
		unsigned char ca = (unsigned char)a[i],
			      cb = (unsigned char)b[i];

		if (ca == cb) {
			if (ca & 0x80)
				return -2;
			continue;
		}
		if ((ca | cb) & 0x80)
			return -2;
		ca = upper ? ascii_upper(ca) : ascii_lower(ca);
		cb = upper ? ascii_upper(cb) : ascii_lower(cb);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen;
}

int guts__expr_str_icmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct guts_buf ua, ub;
	int r = fast_fold_cmp(a, alen, b, blen, 1);

	if (r != -2)
		return r;
	guts_buf_init(&ua, 0);
	guts_buf_init(&ub, 0);
	guts__expr_case_map(&ua, a, alen, 1);
	guts__expr_case_map(&ub, b, blen, 1);
	r = utf16_order_cmp((const unsigned char *)ua.data, ua.len,
			    (const unsigned char *)ub.data, ub.len);
	guts_buf_release(&ua);
	guts_buf_release(&ub);
	return r;
}

int guts__expr_str_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = fast_fold_cmp(a, alen, b, blen, 1);

	if (r != -2)
		return r == 0;
	return guts__expr_str_icmp(a, alen, b, blen) == 0;
}

int guts__expr_key_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	struct guts_buf la, lb;
	int r = fast_fold_cmp(a, alen, b, blen, 0);

	if (r != -2)
		return r == 0;
	guts_buf_init(&la, 0);
	guts_buf_init(&lb, 0);
	guts__expr_case_map(&la, a, alen, 0);
	guts__expr_case_map(&lb, b, blen, 0);
	r = la.len == lb.len && !memcmp(la.data, lb.data, la.len);
	guts_buf_release(&la);
	guts_buf_release(&lb);
	return r;
}
