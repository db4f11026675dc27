/*
 * The expression lexer.  It follows the reference lexer token for token,
 * because error messages quote its lexemes: a lexeme runs to the next
 * boundary character ( ( [ ) ] , . ! > < = & | or white space), and a
 * lexeme that is neither a legal identifier nor a number JavaScript's
 * Number() accepts is an "Unexpected symbol".  Positions in messages count
 * UTF-16 units from the start of the expression, as GitHub's do.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guts/alloc.h"
#include "guts/error.h"
#include "guts/expr.h"
#include "workflow/expr_internal.h"
#include "banned.h"

struct lexer {
	const char *src;
	size_t len;
	size_t start;
	size_t off;
	struct guts__expr_token *toks;
	size_t nr;
	size_t alloc;
	struct guts_expr_error *err;
};

static int is_boundary_at(const struct lexer *lx, size_t i)
{
	const unsigned char *s = (const unsigned char *)lx->src;
	uint32_t cp;

	switch (s[i]) {
	case '(':
	case '[':
	case ')':
	case ']':
	case ',':
	case '.':
	case '!':
	case '>':
	case '<':
	case '=':
	case '&':
	case '|':
	case ' ':
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
		return 1;
	}
	if (s[i] < 0x80)
		return 0;
	/* JavaScript's \s also matches these. */
	guts__expr_utf8_decode(s + i, lx->len - i, &cp);
	return cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
	       cp == 0x3000 || cp == 0xfeff;
}

static enum guts__expr_tok previous(const struct lexer *lx)
{
	return lx->nr ? lx->toks[lx->nr - 1].type : GUTS__TOK_EOF;
}

static struct guts__expr_token *add_token(struct lexer *lx,
					  enum guts__expr_tok type)
{
	struct guts__expr_token *t;

	GUTS_ALLOC_GROW(lx->toks, lx->nr + 1, lx->alloc);
	t = &lx->toks[lx->nr++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->off = lx->start;
	t->len = lx->off - lx->start;
	return t;
}

static int unexpected(struct lexer *lx, size_t from, size_t to)
{
	char *msg = guts_xasprintf(
	    "Unexpected symbol: '%.*s'. Located at position %zu within "
	    "expression: %.*s",
	    (int)(to - from), lx->src + from,
	    guts__expr_position(lx->src, lx->start), (int)lx->len, lx->src);
	int rc = guts__expr_set_error(
	    lx->err, GUTS_EXPR_ERR_LEXING, GUTS_EINVAL, lx->start,
	    guts__expr_position(lx->src, lx->start), msg);

	free(msg);
	return rc;
}

static int consume_number(struct lexer *lx)
{
	double v;

	while (lx->off < lx->len &&
	       (!is_boundary_at(lx, lx->off) || lx->src[lx->off] == '.'))
		lx->off++;
	v = guts__expr_str_to_number(lx->src + lx->start, lx->off - lx->start);
	if (isnan(v))
		return unexpected(lx, lx->start, lx->off);
	add_token(lx, GUTS__TOK_NUMBER)->number = v;
	return 0;
}

static int consume_string(struct lexer *lx)
{
	struct guts__expr_token *t;
	size_t i, o = 0;
	char *val;

	while (lx->off < lx->len) {
		if (lx->src[lx->off] == '\'') {
			if (lx->off + 1 < lx->len &&
			    lx->src[lx->off + 1] == '\'') {
				lx->off += 2;
				continue;
			}
			break;
		}
		lx->off++;
	}
	if (lx->off >= lx->len)
		return unexpected(lx, lx->start, lx->len);
	lx->off++; /* the closing quote */
	/*
	 * Every '' is one quote.  (The reference's JavaScript replaces only the
	 * first; GitHub's runner replaces all of them, and so do we.)
	 */
	val = guts_xmalloc(lx->off - lx->start);
	for (i = lx->start + 1; i < lx->off - 1; i++) {
		val[o++] = lx->src[i];
		if (lx->src[i] == '\'')
			i++;
	}
	val[o] = '\0';
	t = add_token(lx, GUTS__TOK_STRING);
	t->str = val;
	t->str_len = o;
	return 0;
}

static int is_legal_identifier(const char *s, size_t len)
{
	char c;

	if (!len)
		return 0;
	c = s[0];
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
		return 0;
	for (size_t i = 1; i < len; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int lexeme_is(const struct lexer *lx, const char *word)
{
	size_t n = strlen(word);

	return lx->off - lx->start == n &&
	       !memcmp(lx->src + lx->start, word, n);
}

static int consume_identifier(struct lexer *lx)
{
	enum guts__expr_tok type = GUTS__TOK_IDENTIFIER;
	double number = 0;

	while (lx->off < lx->len && !is_boundary_at(lx, lx->off))
		lx->off++;
	/* After a dot, keywords are property names (github.true). */
	if (previous(lx) != GUTS__TOK_DOT) {
		if (lexeme_is(lx, "true")) {
			type = GUTS__TOK_TRUE;
		} else if (lexeme_is(lx, "false")) {
			type = GUTS__TOK_FALSE;
		} else if (lexeme_is(lx, "null")) {
			type = GUTS__TOK_NULL;
		} else if (lexeme_is(lx, "NaN")) {
			type = GUTS__TOK_NUMBER;
			number = NAN;
		} else if (lexeme_is(lx, "Infinity")) {
			type = GUTS__TOK_NUMBER;
			number = INFINITY;
		}
	}
	if (!is_legal_identifier(lx->src + lx->start, lx->off - lx->start))
		return unexpected(lx, lx->start, lx->off);
	add_token(lx, type)->number = number;
	return 0;
}

static int match(struct lexer *lx, char c)
{
	if (lx->off < lx->len && lx->src[lx->off] == c) {
		lx->off++;
		return 1;
	}
	return 0;
}

static size_t utf16_length(const char *s, size_t len)
{
	return guts__expr_position(s, len) - 1;
}

void guts__expr_tokens_free(struct guts__expr_token *toks, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(toks[i].str);
	free(toks);
}

int guts__expr_lex(struct guts__expr_token **out, size_t *nr, const char *src,
		   size_t len, struct guts_expr_error *err)
{
	struct lexer lx = {src, len, 0, 0, NULL, 0, 0, err};
	int rc = 0;

	if (len > 4 * (size_t)GUTS_EXPR_MAX_LENGTH ||
	    utf16_length(src, len) > GUTS_EXPR_MAX_LENGTH)
		return guts__expr_set_error(
		    err, GUTS_EXPR_ERR_LEXING, GUTS_ETOOBIG, 0, 0,
		    "Exceeded max expression length 21000");
	while (lx.off < lx.len) {
		char c;

		lx.start = lx.off;
		c = src[lx.off++];
		switch (c) {
		case '(':
			add_token(&lx, GUTS__TOK_LEFT_PAREN);
			break;
		case ')':
			add_token(&lx, GUTS__TOK_RIGHT_PAREN);
			break;
		case '[':
			add_token(&lx, GUTS__TOK_LEFT_BRACKET);
			break;
		case ']':
			add_token(&lx, GUTS__TOK_RIGHT_BRACKET);
			break;
		case ',':
			add_token(&lx, GUTS__TOK_COMMA);
			break;
		case '.': {
			enum guts__expr_tok p = previous(&lx);

			if (p != GUTS__TOK_IDENTIFIER &&
			    p != GUTS__TOK_RIGHT_BRACKET &&
			    p != GUTS__TOK_RIGHT_PAREN && p != GUTS__TOK_STAR)
				rc = consume_number(&lx);
			else
				add_token(&lx, GUTS__TOK_DOT);
			break;
		}
		case '-':
		case '+':
			rc = consume_number(&lx);
			break;
		case '!':
			add_token(&lx, match(&lx, '=') ? GUTS__TOK_BANG_EQUAL
						       : GUTS__TOK_BANG);
			break;
		case '=':
			if (!match(&lx, '='))
				rc = consume_identifier(&lx); /* an error */
			else
				add_token(&lx, GUTS__TOK_EQUAL_EQUAL);
			break;
		case '<':
			add_token(&lx, match(&lx, '=') ? GUTS__TOK_LESS_EQUAL
						       : GUTS__TOK_LESS);
			break;
		case '>':
			add_token(&lx, match(&lx, '=') ? GUTS__TOK_GREATER_EQUAL
						       : GUTS__TOK_GREATER);
			break;
		case '&':
			if (!match(&lx, '&'))
				rc = consume_identifier(&lx);
			else
				add_token(&lx, GUTS__TOK_AND);
			break;
		case '|':
			if (!match(&lx, '|'))
				rc = consume_identifier(&lx);
			else
				add_token(&lx, GUTS__TOK_OR);
			break;
		case '*':
			add_token(&lx, GUTS__TOK_STAR);
			break;
		case ' ':
		case '\r':
		case '\t':
		case '\n':
			break;
		case '\'':
			rc = consume_string(&lx);
			break;
		default:
			if (c >= '0' && c <= '9')
				rc = consume_number(&lx);
			else
				rc = consume_identifier(&lx);
			break;
		}
		if (rc < 0) {
			guts__expr_tokens_free(lx.toks, lx.nr);
			return rc;
		}
	}
	/* The reference's EOF token sits where the last lexeme started. */
	lx.off = lx.start;
	add_token(&lx, GUTS__TOK_EOF);
	*out = lx.toks;
	*nr = lx.nr;
	return 0;
}
