/*
 * Steps: the if: condition, the env layers, the shell and its script, the
 * step process with its output captured line by line (workflow commands,
 * masking, timestamps), the environment files it writes back, time-outs,
 * cancellation and continue-on-error.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/exec_internal.h"
#include "guts/alloc.h"
#include "guts/cmdfile.h"
#include "guts/error.h"
#include "guts/expr.h"
#include "guts/fs.h"
#include "banned.h"

/* ---- the process environment ------------------------------------------- */

/* Names a workflow may not set: the defaults below win. */
static int reserved(const char *name)
{
	static const char *const exact[] = {"CI",
					    "GITHUB_ACTIONS",
					    "GITHUB_WORKSPACE",
					    "GITHUB_SHA",
					    "GITHUB_REF",
					    "GITHUB_REF_NAME",
					    "GITHUB_EVENT_NAME",
					    "GITHUB_EVENT_PATH",
					    "GITHUB_RUN_ID",
					    "GITHUB_RUN_NUMBER",
					    "GITHUB_JOB",
					    "GITHUB_REPOSITORY",
					    "GITHUB_OUTPUT",
					    "GITHUB_ENV",
					    "GITHUB_PATH",
					    "GITHUB_STEP_SUMMARY",
					    "GITHUB_STATE",
					    "RUNNER_OS",
					    "RUNNER_TEMP",
					    "RUNNER_TOOL_CACHE",
					    "GUTS_SHA",
					    "GUTS_REF",
					    "GUTS_BRANCH",
					    "GUTS_REPOSITORY",
					    "GUTS_WORKSPACE",
					    "GUTS_OUTPUT",
					    "GUTS_ENV",
					    "GUTS_PATH",
					    "GUTS_STEP_SUMMARY",
					    "GUTS_STATE",
					    "GUTS_TRACKING_ID",
					    NULL};

	for (size_t i = 0; exact[i]; i++)
		if (!strcmp(name, exact[i]))
			return 1;
	return 0;
}

static void put(json_t *env, const char *k, const char *v)
{
	json_object_set_new(env, k, json_string(v ? v : ""));
}

/*
 * The environment of a step process: passed-through host variables, the
 * env context, then the defaults (which the env context cannot override),
 * and PATH with GITHUB_PATH's additions in front.
 */
json_t *exec_process_env(struct exec_job *j, struct exec_scope *s,
			 const json_t *env_ctx)
{
	const struct guts_job_spec *sp = j->spec;
	json_t *e = json_object();
	const json_t *gh = j->github;
	const char *k, *path;
	json_t *v;
	struct guts_buf p;

	for (size_t i = 0; sp->host_env && sp->host_env[i]; i++) {
		const char *val = getenv(sp->host_env[i]);

		if (val)
			put(e, sp->host_env[i], val);
	}
	put(e, "HOME", j->home);
	json_object_foreach((json_t *)env_ctx, k, v) {
		if (reserved(k))
			continue;
		if (json_is_string(v))
			put(e, k, json_string_value(v));
	}
#define GH(key) json_string_value(json_object_get(gh, key))
	put(e, "CI", "true");
	put(e, "GITHUB_ACTIONS", "true");
	put(e, "GITHUB_WORKSPACE", j->workspace);
	put(e, "GITHUB_SHA", GH("sha"));
	put(e, "GITHUB_REF", GH("ref"));
	put(e, "GITHUB_REF_NAME", GH("ref_name"));
	put(e, "GITHUB_REF_TYPE", GH("ref_type"));
	put(e, "GITHUB_HEAD_REF", GH("head_ref"));
	put(e, "GITHUB_BASE_REF", GH("base_ref"));
	put(e, "GITHUB_EVENT_NAME", GH("event_name"));
	put(e, "GITHUB_EVENT_PATH", j->event_path);
	put(e, "GITHUB_RUN_ID", GH("run_id"));
	put(e, "GITHUB_RUN_NUMBER", GH("run_number"));
	put(e, "GITHUB_RUN_ATTEMPT", GH("run_attempt"));
	put(e, "GITHUB_JOB", sp->job->id);
	put(e, "GITHUB_REPOSITORY", GH("repository"));
	put(e, "GITHUB_REPOSITORY_OWNER", GH("repository_owner"));
	put(e, "GITHUB_ACTOR", GH("actor"));
	put(e, "GITHUB_WORKFLOW", GH("workflow"));
	put(e, "GITHUB_SERVER_URL", GH("server_url"));
	put(e, "GITHUB_API_URL", GH("api_url"));
	put(e, "GITHUB_ACTION", GH("action"));
	put(e, "RUNNER_OS", "Linux");
	put(e, "RUNNER_ARCH", "X64");
	put(e, "RUNNER_NAME", "guts-exec");
	put(e, "RUNNER_TEMP", j->temp);
	put(e, "RUNNER_TOOL_CACHE", j->tool_cache);
	put(e, "RUNNER_WORKSPACE", sp->job_dir);
	if (j->debug)
		put(e, "RUNNER_DEBUG", "1");
	put(e, "GUTS_SHA", GH("sha"));
	put(e, "GUTS_REF", GH("ref"));
	put(e, "GUTS_BRANCH",
	    GH("ref_type") && !strcmp(GH("ref_type"), "branch") ? GH("ref_name")
								: "");
	put(e, "GUTS_REPOSITORY", GH("repository"));
	put(e, "GUTS_WORKSPACE", j->workspace);
#undef GH
	if (s->action_path)
		put(e, "GITHUB_ACTION_PATH", s->action_path);

	path = json_string_value(json_object_get(e, "PATH"));
	guts_buf_init(&p, 0);
	for (size_t i = j->path_add.nr; i > 0; i--) {
		guts_buf_adds(&p, j->path_add.v[i - 1]);
		guts_buf_addch(&p, ':');
	}
	guts_buf_adds(&p, path ? path
			       : "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
				 "/usr/bin:/sbin:/bin");
	put(e, "PATH", p.data);
	guts_buf_release(&p);
	return e;
}

static char **env_array(const json_t *env, struct guts_strvec *sv)
{
	const char *k;
	json_t *v;

	guts_strvec_init(sv);
	json_object_foreach((json_t *)env, k, v)
		guts_strvec_pushf(sv, "%s=%s", k, json_string_value(v));
	guts_strvec_push(sv, "GUTS_UNUSED=");
	guts_strvec_pop(sv); /* make sure v is allocated and terminated */
	return sv->v;
}

/* ---- output capture ---------------------------------------------------- */

struct capture {
	struct exec_job *j;
	struct exec_step_io *io;
	int64_t ts;
	int in_piece; /* the last piece did not end a line */
	/* The batch of ordinary lines: its line ends, relative to it. */
	size_t *ends;
	size_t nr_ends, alloc_ends;
	const char *batch;
	size_t batch_len;
	size_t pieces;
	int unchanged;
};

static void emit(struct exec_job *j, enum guts_log_kind kind, const char *s,
		 size_t len, int partial, int64_t ts,
		 const struct guts_annotation *ann)
{
	struct guts_log_event ev = {0};

	if (!j->spec->sink.event)
		return;
	ev.job_key = j->spec->job_key;
	ev.step = j->step_no;
	ev.step_name = j->step_name;
	ev.kind = kind;
	ev.ts_ns = ts;
	ev.text = s;
	ev.len = len;
	ev.partial = partial;
	ev.ann = ann;
	j->spec->sink.event(j->spec->sink.ud, &ev);
}

static void collect(const char *data, size_t len, void *ud)
{
	guts_buf_add(&((struct exec_job *)ud)->line, data, len);
}

/* Mask @len bytes of a line (or piece) and hand them to the sink. */
static void output(struct capture *c, enum guts_log_kind kind, const char *line,
		   size_t len, int complete, const struct guts_annotation *ann)
{
	struct exec_job *j = c->j;

	if (!guts_mask_count(j->mask)) {
		emit(j, kind, line, len, !complete, c->ts, ann);
		return;
	}
	guts_buf_reset(&j->line);
	guts_mask_write(j->mask, line, len, collect, j);
	if (complete)
		guts_mask_flush(j->mask, collect, j);
	emit(j, kind, j->line.data, j->line.len, !complete, c->ts, ann);
}

static int unsecure_allowed(struct exec_step_io *io)
{
	const char *v = json_string_value(
	    json_object_get(io->env, "ACTIONS_ALLOW_UNSECURE_COMMANDS"));

	return v && !strcasecmp(v, "true");
}

static void annotation(struct capture *c, enum guts_log_kind kind,
		       struct guts_wfcmd *cmd)
{
	struct guts_annotation a = {0};
	const char *v, *file, *title;
	char *mfile = NULL, *mtitle = NULL;

	/* Properties are the step's text too: mask them like its lines. */
	file = a.file = guts_wfcmd_prop(cmd, "file");
	title = a.title = guts_wfcmd_prop(cmd, "title");
	if (guts_mask_count(c->j->mask)) {
		if (file)
			a.file = mfile = guts_mask_string(c->j->mask, file,
							  strlen(file), NULL);
		if (title)
			a.title = mtitle = guts_mask_string(
			    c->j->mask, title, strlen(title), NULL);
	}
	if ((v = guts_wfcmd_prop(cmd, "line")))
		a.line = (unsigned)strtoul(v, NULL, 10);
	if ((v = guts_wfcmd_prop(cmd, "endLine")))
		a.end_line = (unsigned)strtoul(v, NULL, 10);
	if ((v = guts_wfcmd_prop(cmd, "col")))
		a.col = (unsigned)strtoul(v, NULL, 10);
	if ((v = guts_wfcmd_prop(cmd, "endColumn")))
		a.end_col = (unsigned)strtoul(v, NULL, 10);
	output(c, kind, cmd->message, cmd->message_len, 1, &a);
	free(mfile);
	free(mtitle);
}

/*
 * Account for @n more bytes of outputs or state; 0 (and the step fails)
 * past the step's or the job's cap.
 */
static int step_bytes(struct exec_job *j, struct exec_step_io *io, size_t n)
{
	if (io->bytes + n > EXEC_MAX_STEP_OUTPUTS ||
	    j->output_bytes + n > EXEC_MAX_JOB_OUTPUTS) {
		if (!io->command_failed)
			exec_log(j, GUTS_LOG_ERROR,
				 "The step's outputs and state exceed %d "
				 "bytes (or the job's %d); the rest is "
				 "dropped.",
				 EXEC_MAX_STEP_OUTPUTS, EXEC_MAX_JOB_OUTPUTS);
		io->command_failed = 1;
		return 0;
	}
	io->bytes += n;
	j->output_bytes += n;
	return 1;
}

/* Handle a workflow command; 0 when the line is to be shown as output. */
static int command(struct capture *c, const char *line, size_t len)
{
	struct exec_job *j = c->j;
	struct exec_step_io *io = c->io;
	struct guts_wfcmd cmd;
	const char *name;
	size_t skip = 0;
	int handled = 1;

	while (skip < len && (line[skip] == ' ' || line[skip] == '\t'))
		skip++;
	if (len - skip < 4 || line[skip] != ':' || line[skip + 1] != ':')
		return 0;
	if (io->stop_token) {
		size_t tl = strlen(io->stop_token);

		if (len - skip == tl + 4 &&
		    !memcmp(line + skip + 2, io->stop_token, tl) &&
		    !memcmp(line + skip + 2 + tl, "::", 2)) {
			free(io->stop_token);
			io->stop_token = NULL;
			return 1;
		}
		return 0;
	}
	if (guts_wfcmd_parse(&cmd, line + skip, len - skip) != 1)
		return 0;
	name = cmd.name;
	if (!strcmp(name, "add-mask")) {
		if (guts_mask_count(j->mask) >= EXEC_MAX_MASKS) {
			exec_log(j, GUTS_LOG_ERROR,
				 "::add-mask:: refused: the job already masks "
				 "%d values",
				 EXEC_MAX_MASKS);
			io->command_failed = 1;
		} else if (cmd.message_len) {
			guts_mask_add(j->mask, cmd.message, cmd.message_len);
		}
	} else if (!strcmp(name, "group")) {
		output(c, GUTS_LOG_GROUP, cmd.message, cmd.message_len, 1,
		       NULL);
	} else if (!strcmp(name, "endgroup")) {
		emit(j, GUTS_LOG_ENDGROUP, "", 0, 0, c->ts, NULL);
	} else if (!strcmp(name, "error")) {
		annotation(c, GUTS_LOG_ERROR, &cmd);
	} else if (!strcmp(name, "warning")) {
		annotation(c, GUTS_LOG_WARNING, &cmd);
	} else if (!strcmp(name, "notice")) {
		annotation(c, GUTS_LOG_NOTICE, &cmd);
	} else if (!strcmp(name, "debug")) {
		if (j->debug)
			output(c, GUTS_LOG_DEBUG, cmd.message, cmd.message_len,
			       1, NULL);
	} else if (!strcmp(name, "stop-commands")) {
		if (cmd.message_len) {
			free(io->stop_token);
			io->stop_token = guts_xstrdup(cmd.message);
		}
	} else if (!strcmp(name, "set-output") || !strcmp(name, "save-state")) {
		const char *k = guts_wfcmd_prop(&cmd, "name");

		if (k && *k && step_bytes(j, io, strlen(k) + cmd.message_len))
			json_object_set_new(!strcmp(name, "set-output")
						? io->outputs
						: io->state,
					    k, json_string(cmd.message));
	} else if (!strcmp(name, "set-env") || !strcmp(name, "add-path")) {
		if (!unsecure_allowed(io)) {
			exec_log(j, GUTS_LOG_ERROR,
				 "Unable to process command '::%s' "
				 "successfully: the `%s` command is disabled. "
				 "Use the environment files instead, or opt "
				 "into unsecure command execution by setting "
				 "the `ACTIONS_ALLOW_UNSECURE_COMMANDS` "
				 "environment variable to `true`.",
				 name, name);
			io->command_failed = 1;
		} else if (!strcmp(name, "add-path")) {
			if (cmd.message_len)
				guts_strvec_push(&j->path_add, cmd.message);
		} else {
			const char *k = guts_wfcmd_prop(&cmd, "name");

			if (k && *k)
				json_object_set_new(j->file_env, k,
						    json_string(cmd.message));
		}
	} else if (!strcmp(name, "echo")) {
		/* Command echoing: we never echo commands. */
	} else {
		handled = 0;
	}
	guts_wfcmd_release(&cmd);
	return handled;
}

static int on_line(const char *line, size_t len, int complete, void *ud)
{
	struct capture *c = ud;

	/* A command is a whole line; pieces of long lines never are. */
	if (!c->in_piece && complete && command(c, line, len)) {
		c->in_piece = 0;
		return 0;
	}
	output(c, GUTS_LOG_OUTPUT, line, len, complete, NULL);
	c->in_piece = !complete;
	return 0;
}

/*
 * Complete lines that hold no workflow command, in one go: masked as one
 * stream, then handed out a line at a time.  The line ends found while
 * looking for commands (c->ends) are reused when masking changed
 * nothing, which is the common case; otherwise the masked text is split
 * anew (a whole multi-line secret then comes out as one "***" line).
 */
static void unchanged_or_copy(const char *data, size_t len, void *ud)
{
	struct capture *c = ud;

	if (c->pieces++ == 0 && data == c->batch && len == c->batch_len)
		c->unchanged = 1;
	else
		c->unchanged = 0;
	guts_buf_add(&c->j->line, data, len);
}

static void output_batch(struct capture *c, const char *data, size_t len)
{
	struct exec_job *j = c->j;
	const char *s, *end;

	if (!len) {
		c->nr_ends = 0;
		return;
	}
	if (guts_mask_count(j->mask)) {
		guts_buf_reset(&j->line);
		c->batch = data;
		c->batch_len = len;
		c->pieces = 0;
		c->unchanged = 0;
		guts_mask_write(j->mask, data, len, unchanged_or_copy, c);
		guts_mask_flush(j->mask, unchanged_or_copy, c);
		if (!c->unchanged) {
			s = j->line.data;
			end = s + j->line.len;
			while (s < end) {
				const char *nl =
				    memchr(s, '\n', (size_t)(end - s));
				size_t n = (size_t)((nl ? nl : end) - s);

				emit(j, GUTS_LOG_OUTPUT, s, n, 0, c->ts, NULL);
				s += n + 1;
			}
			c->nr_ends = 0;
			return;
		}
	}
	s = data;
	for (size_t i = 0; i < c->nr_ends; i++) {
		const char *nl = data + c->ends[i];

		emit(j, GUTS_LOG_OUTPUT, s, (size_t)(nl - s), 0, c->ts, NULL);
		s = nl + 1;
	}
	c->nr_ends = 0;
}

/* Whether a line may be a workflow command (or a stop-commands end). */
static int maybe_command(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i + 1 < n && s[i] == ':' && s[i + 1] == ':';
}

/*
 * A read of the step's output.  The fast path takes runs of ordinary
 * complete lines in one batch; what continues a line from the last read,
 * a command line, an over-long line or an unterminated end goes through
 * the line splitter one line at a time.
 */
static void capture_chunk(struct capture *c, const char *data, size_t len)
{
	struct exec_job *j = c->j;
	const char *s = data, *end = data + len, *batch;

	if (j->lines.partial.len || c->in_piece) {
		const char *nl = memchr(s, '\n', len);
		size_t n = nl ? (size_t)(nl - s) + 1 : len;

		guts_lines_feed(&j->lines, s, n, on_line, c);
		s += n;
	}
	batch = s;
	c->nr_ends = 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n;

		if (!nl)
			break;
		n = (size_t)(nl - s);
		if (n > j->lines.max || maybe_command(s, n)) {
			output_batch(c, batch, (size_t)(s - batch));
			guts_lines_feed(&j->lines, s, n + 1, on_line, c);
			batch = nl + 1;
		} else {
			GUTS_ALLOC_GROW(c->ends, c->nr_ends + 1, c->alloc_ends);
			c->ends[c->nr_ends++] = (size_t)(nl - batch);
		}
		s = nl + 1;
	}
	output_batch(c, batch, (size_t)(s - batch));
	if (s < end)
		guts_lines_feed(&j->lines, s, (size_t)(end - s), on_line, c);
}

/* ---- environment files ------------------------------------------------- */

/*
 * The files a step writes back live in a directory the step can write
 * (j->files_dir, inside RUNNER_TEMP).  The executor works on them only
 * through j->files_fd, the directory it made before any step ran, by name:
 * a step that renames the directory and plants a link in its place moves
 * nothing of ours.  Links and FIFOs in it are never followed or opened,
 * and only regular files are read.
 */
static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	if (!path)
		return "";
	return slash ? slash + 1 : path;
}

static int read_env_file(struct exec_job *j, const char *path, char **text,
			 size_t *len)
{
	struct stat st;
	int fd, ret;

	*text = NULL;
	*len = 0;
	fd = openat(j->files_fd, base_name(path),
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : guts_error_errno("open %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return guts_error(GUTS_EINVAL, "%s is not a regular file",
				  path);
	}
	ret = guts_fs_read_fd(text, len, fd, EXEC_MAX_ENV_FILE);
	close(fd);
	return ret;
}

/* Whether the step's file directory is still the one we made. */
int exec_files_dir_intact(struct exec_job *j)
{
	struct stat a, b;

	return fstat(j->files_fd, &a) == 0 && lstat(j->files_dir, &b) == 0 &&
	       S_ISDIR(b.st_mode) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Create or empty a regular file of the step's file directory. */
int exec_write_file(struct exec_job *j, const char *path, const char *data,
		    size_t len)
{
	const char *name = base_name(path);
	struct stat st;
	int fd;

	fd = openat(j->files_fd, name,
		    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC,
		    0644);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
		errno = EEXIST;
	}
	if (fd < 0 && (errno == ELOOP || errno == EEXIST || errno == ENXIO ||
		       errno == EISDIR)) {
		/* Something else sits there: replace it. */
		if (unlinkat(j->files_fd, name, 0) < 0 &&
		    unlinkat(j->files_fd, name, AT_REMOVEDIR) < 0)
			return guts_error_errno("replace %s", path);
		fd = openat(
		    j->files_fd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		return guts_error_errno("create %s", path);
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return guts_error_errno("write %s", path);
		}
		data += n;
		len -= (size_t)n;
	}
	close(fd);
	return 0;
}

/* An entry of an environment file, within the caps (see EXEC_MAX_*). */
struct entry_ctx {
	struct exec_job *j;
	struct exec_step_io *io;
	json_t *obj;
	int env; /* GITHUB_ENV rather than outputs or state */
};

static int set_entry(const char *name, const char *value, size_t len, void *ud)
{
	struct entry_ctx *e = ud;
	size_t n = strlen(name) + len;

	if (e->env) {
		if (e->j->env_bytes + n > EXEC_MAX_ENV_BYTES)
			return guts_error(GUTS_ETOOBIG,
					  "the job's environment would exceed "
					  "%d bytes",
					  EXEC_MAX_ENV_BYTES);
		e->j->env_bytes += n;
	} else if (!step_bytes(e->j, e->io, n)) {
		return guts_error(GUTS_ETOOBIG, "'%s' is over the cap", name);
	}
	json_object_set_new(e->obj, name, json_stringn(value, len));
	return 0;
}

struct step_files {
	char *output, *env, *path, *summary, *state;
};

static void files_release(struct step_files *f)
{
	free(f->output);
	free(f->env);
	free(f->path);
	free(f->summary);
	free(f->state);
}

static int files_create(struct exec_job *j, struct step_files *f)
{
	if (!exec_files_dir_intact(j))
		return guts_error(GUTS_EPERM,
				  "%s was replaced by an earlier step; the "
				  "job's file commands cannot be trusted",
				  j->files_dir);
	f->output = exec_file_path(j, "set_output", NULL);
	f->env = exec_file_path(j, "set_env", NULL);
	f->path = exec_file_path(j, "add_path", NULL);
	f->summary = exec_file_path(j, "step_summary", NULL);
	f->state = exec_file_path(j, "save_state", NULL);
	if (exec_write_file(j, f->output, "", 0) < 0 ||
	    exec_write_file(j, f->env, "", 0) < 0 ||
	    exec_write_file(j, f->path, "", 0) < 0 ||
	    exec_write_file(j, f->summary, "", 0) < 0 ||
	    exec_write_file(j, f->state, "", 0) < 0)
		return GUTS_EIO;
	return 0;
}

static void files_env(json_t *env, const struct step_files *f)
{
	put(env, "GITHUB_OUTPUT", f->output);
	put(env, "GITHUB_ENV", f->env);
	put(env, "GITHUB_PATH", f->path);
	put(env, "GITHUB_STEP_SUMMARY", f->summary);
	put(env, "GITHUB_STATE", f->state);
	put(env, "GUTS_OUTPUT", f->output);
	put(env, "GUTS_ENV", f->env);
	put(env, "GUTS_PATH", f->path);
	put(env, "GUTS_STEP_SUMMARY", f->summary);
	put(env, "GUTS_STATE", f->state);
}

static int load(struct exec_job *j, const char *path, char **text, size_t *len,
		int *ret)
{
	if (read_env_file(j, path, text, len) < 0) {
		exec_log(j, GUTS_LOG_ERROR, "%s", guts_error_message());
		*ret = GUTS_EINVAL;
		return 0;
	}
	return 1;
}

/* Read back what the step wrote; a bad file fails the step. */
static int files_apply(struct exec_job *j, const struct step_files *f,
		       struct exec_step_io *io)
{
	char *text;
	size_t len;
	int ret = 0;

	if (load(j, f->env, &text, &len, &ret) && text) {
		struct entry_ctx e = {j, io, j->file_env, 1};

		if (guts_envfile_parse(text, len, set_entry, &e) < 0) {
			exec_log(j, GUTS_LOG_ERROR, "GITHUB_ENV: %s",
				 guts_error_message());
			ret = GUTS_EINVAL;
		}
		free(text);
	}
	if (load(j, f->output, &text, &len, &ret) && text) {
		struct entry_ctx e = {j, io, io->outputs, 0};

		if (guts_envfile_parse(text, len, set_entry, &e) < 0) {
			exec_log(j, GUTS_LOG_ERROR, "GITHUB_OUTPUT: %s",
				 guts_error_message());
			ret = GUTS_EINVAL;
		}
		free(text);
	}
	if (load(j, f->state, &text, &len, &ret) && text) {
		struct entry_ctx e = {j, io, io->state, 0};

		if (guts_envfile_parse(text, len, set_entry, &e) < 0) {
			exec_log(j, GUTS_LOG_ERROR, "GITHUB_STATE: %s",
				 guts_error_message());
			ret = GUTS_EINVAL;
		}
		free(text);
	}
	if (load(j, f->path, &text, &len, &ret) && text) {
		char *save = NULL;

		for (char *l = strtok_r(text, "\r\n", &save); l;
		     l = strtok_r(NULL, "\r\n", &save)) {
			while (*l == ' ' || *l == '\t')
				l++;
			if (*l)
				guts_strvec_push(&j->path_add, l);
		}
		free(text);
	}
	if (load(j, f->summary, &text, &len, &ret) && text) {
		if (len > EXEC_MAX_SUMMARY) {
			exec_log(j, GUTS_LOG_WARNING,
				 "$GITHUB_STEP_SUMMARY is %zu bytes; only %d "
				 "are kept",
				 len, EXEC_MAX_SUMMARY);
			len = EXEC_MAX_SUMMARY;
		}
		if (len) {
			size_t ml;
			char *m = guts_mask_string(j->mask, text, len, &ml);

			guts_buf_add(&j->summary, m, ml);
			if (ml && m[ml - 1] != '\n')
				guts_buf_addch(&j->summary, '\n');
			free(m);
		}
		free(text);
	}
	return ret;
}

/* ---- the step process -------------------------------------------------- */

enum guts_conclusion exec_run_process(struct exec_job *j,
				      const char *const *argv,
				      const json_t *env, const char *cwd,
				      double timeout_minutes,
				      struct exec_step_io *io)
{
	const struct guts_job_spec *sp = j->spec;
	struct guts_sandbox_cmd cmd = {0};
	struct guts_sandbox_exit ex = {0};
	struct step_files f = {0};
	struct capture c = {0};
	struct guts_strvec envv;
	json_t *penv;
	char *tracking, *buf;
	int pfd[2], ret, ended = 0, eof = 0, terminated = 0;
	int step_timed_out = 0, cancelled = 0;
	int grace = sp->kill_grace_ms > 0 ? sp->kill_grace_ms : 5000;
	int64_t deadline, drain_until = 0;
	/* What the deadline is: 0 the job's, 1 the step's own, 2 a uses:
	 * step's around this one. */
	int deadline_kind = 0, poll_failed = 0;
	double step_minutes = timeout_minutes;
	/* A step that starts after the cancel runs to its end. */
	int was_cancelled = j->cancelled || guts_cancel_is_set(sp->cancel);
	enum guts_conclusion result;

	c.j = j;
	c.io = io;
	/*
	 * After the job timed out, the steps that still run (always()) are
	 * not held to the job's deadline, only to their own or a cleanup
	 * budget.
	 */
	deadline = j->timed_out ? exec_deadline_after(EXEC_CLEANUP_MINUTES)
				: j->deadline;
	if (j->timed_out) {
		deadline_kind = 1;
		step_minutes = EXEC_CLEANUP_MINUTES;
	}
	if (j->scope_deadline < deadline) {
		deadline = j->scope_deadline;
		deadline_kind = 2;
		step_minutes = j->scope_minutes;
	}
	if (timeout_minutes > 0 &&
	    exec_deadline_after(timeout_minutes) < deadline) {
		deadline = exec_deadline_after(timeout_minutes);
		deadline_kind = 1;
		step_minutes = timeout_minutes;
	}
	if (files_create(j, &f) < 0) {
		exec_log(j, GUTS_LOG_ERROR, "%s", guts_error_message());
		files_release(&f);
		return GUTS_FAILURE;
	}
	penv = json_deep_copy(env);
	files_env(penv, &f);
	io->env = penv;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		exec_log(j, GUTS_LOG_ERROR, "pipe: %s", strerror(errno));
		json_decref(penv);
		io->env = NULL;
		files_release(&f);
		return GUTS_FAILURE;
	}
	/* Unique on the host: two legs of one job may run at once. */
	tracking = guts_xasprintf("%s-%lu", j->tracking, ++j->seq);
	cmd.argv = argv;
	cmd.envp = (const char *const *)env_array(penv, &envv);
	cmd.cwd = cwd;
	cmd.tracking_id = tracking;
	cmd.out_fd = pfd[1];
	ret = guts_sandbox_start(j->sb, &cmd);
	close(pfd[1]);
	guts_strvec_release(&envv);
	free(tracking);
	if (ret < 0) {
		exec_log(j, GUTS_LOG_ERROR, "%s", guts_error_message());
		close(pfd[0]);
		json_decref(penv);
		io->env = NULL;
		files_release(&f);
		return GUTS_FAILURE;
	}
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	/*
	 * A bigger pipe lets a chatty step write on while we process what
	 * it wrote, and lets us take more per read.  Best effort: the
	 * system's cap (pipe-max-size) may refuse it.
	 */
	fcntl(pfd[0], F_SETPIPE_SZ, EXEC_PIPE_SIZE);
	buf = guts_xmalloc(EXEC_READ_SIZE);

	while (!ended || !eof) {
		struct pollfd p[3];
		int n = 0, timeout = -1;
		int64_t now = exec_now_mono();

		if (!eof) {
			p[n].fd = pfd[0];
			p[n++].events = POLLIN;
		}
		if (!ended) {
			p[n].fd = guts_sandbox_event_fd(j->sb);
			p[n++].events = POLLIN;
		}
		/*
		 * Once the job is cancelled, the steps that still run
		 * (if: always()) run to their end.
		 */
		if (!terminated && !ended && sp->cancel && !was_cancelled) {
			p[n].fd = guts_cancel_fd(sp->cancel);
			p[n++].events = POLLIN;
		}
		if (ended) {
			/*
			 * The step has ended but something it started still
			 * holds the pipe: take what is there, briefly.
			 */
			if (now >= drain_until)
				break;
			timeout = (int)((drain_until - now) / 1000000) + 1;
		} else if (!terminated) {
			if (now >= deadline) {
				if (deadline_kind == 0)
					j->timed_out = 1;
				else
					step_timed_out = 1;
				guts_sandbox_terminate(j->sb, grace);
				terminated = 1;
				continue;
			}
			if (deadline - now < (int64_t)INT32_MAX * 1000000)
				timeout = (int)((deadline - now) / 1000000) + 1;
		}
		if (poll(p, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			exec_log(j, GUTS_LOG_ERROR, "poll: %s",
				 strerror(errno));
			poll_failed = 1;
			if (!ended)
				guts_sandbox_terminate(j->sb, 0);
			break;
		}
		for (int i = 0; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == pfd[0]) {
				/*
				 * Drain while full reads come back (a few at
				 * most, to keep an eye on time-outs): one
				 * poll() per read would cost as much again.
				 */
				for (int k = 0; k < 8; k++) {
					ssize_t r =
					    read(pfd[0], buf, EXEC_READ_SIZE);

					if (r > 0) {
						c.ts = exec_now_wall();
						capture_chunk(&c, buf,
							      (size_t)r);
						if ((size_t)r < EXEC_READ_SIZE)
							break;
						continue;
					}
					if (r == 0 ||
					    (errno != EAGAIN && errno != EINTR))
						eof = 1;
					break;
				}
			} else if (!ended &&
				   p[i].fd == guts_sandbox_event_fd(j->sb)) {
				ret = guts_sandbox_reap(j->sb, &ex);
				if (ret != 0) {
					ended = 1;
					drain_until =
					    exec_now_mono() + 200 * 1000000LL;
				}
				if (ret < 0) {
					exec_log(j, GUTS_LOG_ERROR, "%s",
						 guts_error_message());
					ex.wstatus = 255 << 8;
				}
			} else if (!terminated && !was_cancelled &&
				   guts_cancel_is_set(sp->cancel)) {
				cancelled = 1;
				j->cancelled = 1;
				guts_sandbox_terminate(j->sb, grace);
				terminated = 1;
			}
		}
	}
	free(buf);
	free(c.ends);
	close(pfd[0]);
	c.ts = exec_now_wall();
	guts_lines_flush(&j->lines, on_line, &c);
	if (c.in_piece) {
		guts_buf_reset(&j->line);
		guts_mask_flush(j->mask, collect, j);
		if (j->line.len)
			emit(j, GUTS_LOG_OUTPUT, j->line.data, j->line.len, 0,
			     c.ts, NULL);
	}
	free(io->stop_token);
	io->stop_token = NULL;

	if (files_apply(j, &f, io) < 0)
		io->command_failed = 1;
	files_release(&f);

	if (step_timed_out) {
		exec_log(j, GUTS_LOG_ERROR,
			 "The step has timed out after %g minutes.",
			 step_minutes);
		result = GUTS_FAILURE;
	} else if (deadline_kind == 0 && j->timed_out && !was_cancelled) {
		exec_log(j, GUTS_LOG_ERROR,
			 "The job has exceeded the maximum execution time of "
			 "%g minutes.",
			 j->job_minutes);
		result = GUTS_FAILURE;
		j->cancelled = 1;
	} else if (poll_failed) {
		result = GUTS_FAILURE;
	} else if (cancelled) {
		exec_log(j, GUTS_LOG_ERROR, "The operation was canceled.");
		result = GUTS_CANCELLED;
	} else if (WIFEXITED(ex.wstatus) && WEXITSTATUS(ex.wstatus) == 0) {
		result = io->command_failed ? GUTS_FAILURE : GUTS_SUCCESS;
	} else {
		if (ex.oom_killed)
			exec_log(j, GUTS_LOG_ERROR,
				 "The step was killed: it exceeded the job's "
				 "memory limit.");
		else if (ex.pids_limited)
			exec_log(j, GUTS_LOG_ERROR,
				 "The step hit the job's process limit "
				 "(sandbox.pids).");
		if (WIFSIGNALED(ex.wstatus))
			exec_log(j, GUTS_LOG_ERROR,
				 "Process was killed by signal %d (%s).",
				 WTERMSIG(ex.wstatus),
				 strsignal(WTERMSIG(ex.wstatus)));
		else
			exec_log(j, GUTS_LOG_ERROR,
				 "Process completed with exit code %d.",
				 WEXITSTATUS(ex.wstatus));
		result = GUTS_FAILURE;
	}
	json_decref(penv);
	io->env = NULL;
	return result;
}

/* ---- run: steps -------------------------------------------------------- */

/* Whether @name runs with the PATH of @env (a process env object). */
int exec_in_path(const char *name, const json_t *env)
{
	const char *path = json_string_value(json_object_get(env, "PATH"));
	char *copy, *save = NULL;
	int found = 0;

	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	if (!path)
		return 0;
	copy = guts_xstrdup(path);
	for (char *d = strtok_r(copy, ":", &save); d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		char *full = guts_xasprintf("%s/%s", *d ? d : ".", name);

		found = access(full, X_OK) == 0;
		free(full);
	}
	free(copy);
	return found;
}

/*
 * The command line of a shell: GitHub's templates for the known shells;
 * a custom shell is split on blanks with {0} replaced by the script.
 */
static int shell_argv(struct guts_strvec *argv, const char *shell,
		      const char *script, const char **ext, char **err)
{
	const char *tmpl;
	char *copy, *save = NULL;

	*ext = "";
	if (!strcmp(shell, "bash")) {
		tmpl = "bash --noprofile --norc -eo pipefail {0}";
		*ext = ".sh";
	} else if (!strcmp(shell, "__default_bash")) {
		tmpl = "bash -e {0}";
		*ext = ".sh";
	} else if (!strcmp(shell, "sh")) {
		tmpl = "sh -e {0}";
		*ext = ".sh";
	} else if (!strcmp(shell, "python")) {
		tmpl = "python {0}";
		*ext = ".py";
	} else if (!strcmp(shell, "pwsh")) {
		tmpl = "pwsh -command . '{0}'";
		*ext = ".ps1";
	} else if (!strcmp(shell, "powershell") || !strcmp(shell, "cmd")) {
		*err = guts_xasprintf("shell '%s' is only available on "
				      "Windows",
				      shell);
		return GUTS_EINVAL;
	} else if (strstr(shell, "{0}")) {
		tmpl = shell;
	} else {
		/* A bare program name: GitHub appends the script path. */
		tmpl = NULL;
	}
	guts_strvec_init(argv);
	copy = guts_xstrdup(tmpl ? tmpl : shell);
	for (char *w = strtok_r(copy, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		char *at = strstr(w, "{0}");

		if (at && script) {
			*at = 0;
			guts_strvec_pushf(argv, "%s%s%s", w, script, at + 3);
		} else {
			guts_strvec_push(argv, w);
		}
	}
	free(copy);
	if (!tmpl && script)
		guts_strvec_push(argv, script);
	if (!argv->nr) {
		*err = guts_xstrdup("the shell is empty");
		return GUTS_EINVAL;
	}
	return 0;
}

static char *resolve_dir(struct exec_job *j, const char *wd)
{
	if (!wd || !*wd)
		return guts_xstrdup(j->workspace);
	if (wd[0] == '/')
		return guts_xstrdup(wd);
	if (wd[0] == '~' && (wd[1] == '/' || !wd[1]))
		return guts_xasprintf("%s%s", j->home, wd + 1);
	return guts_xasprintf("%s/%s", j->workspace, wd);
}

static enum guts_conclusion run_script(struct exec_job *j, struct exec_scope *s,
				       const struct guts_wf_step *st,
				       json_t *env, double timeout,
				       const char *dshell, const char *dwd,
				       json_t *outputs)
{
	struct exec_step_io io = {0};
	struct guts_strvec argv;
	char *script = NULL, *err = NULL, *shell = NULL, *wd = NULL;
	char *dir = NULL, *path = NULL;
	const char *ext;
	json_t *penv = NULL;
	struct stat sb;
	enum guts_conclusion r = GUTS_FAILURE;

	guts_strvec_init(&argv);
	if (exec_eval_string(j, s, env, st->run, &script, &err) < 0)
		goto fail;
	if (st->shell) {
		if (exec_eval_string(j, s, env, st->shell, &shell, &err) < 0)
			goto fail;
	} else if (dshell) {
		if (exec_eval_string(j, s, env, dshell, &shell, &err) < 0)
			goto fail;
	}
	if (st->working_directory || dwd) {
		if (exec_eval_string(
			j, s, env,
			st->working_directory ? st->working_directory : dwd,
			&wd, &err) < 0)
			goto fail;
	}
	penv = exec_process_env(j, s, env);
	if (!shell || !*shell) {
		free(shell);
		shell = guts_xstrdup(
		    exec_in_path("bash", penv) ? "__default_bash" : "sh");
	}
	path = exec_file_path(j, "script", NULL);
	{
		/* The extension tells interpreters what they run. */
		struct guts_strvec probe;

		if (shell_argv(&probe, shell, NULL, &ext, &err) < 0)
			goto fail;
		guts_strvec_release(&probe);
		if (*ext) {
			char *p = guts_xasprintf("%s%s", path, ext);

			free(path);
			path = p;
		}
	}
	if (exec_write_file(j, path, script, strlen(script)) < 0) {
		err = guts_xstrdup(guts_error_message());
		goto fail;
	}
	if (shell_argv(&argv, shell, path, &ext, &err) < 0)
		goto fail;
	if (!exec_in_path(argv.v[0], penv)) {
		err = guts_xasprintf(
		    "shell '%s' was not found in PATH (%s)", argv.v[0],
		    json_string_value(json_object_get(penv, "PATH")));
		goto fail;
	}
	dir = resolve_dir(j, wd);
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		err = guts_xasprintf("working-directory '%s' does not exist "
				     "or is not a directory",
				     wd ? wd : dir);
		goto fail;
	}
	if (st->name) {
		/* A named step: say what it runs, as GitHub's header does. */
		const char *nl = strchr(script, '\n');
		int first = nl ? (int)(nl - script) : (int)strlen(script);

		exec_log(j, GUTS_LOG_INFO, "Run %.*s%s", first, script,
			 nl && nl[1] ? " ..." : "");
	}
	io.outputs = outputs;
	io.state = json_object();
	r = exec_run_process(j, (const char *const *)argv.v, penv, dir, timeout,
			     &io);
	json_decref(io.state);
	goto done;
fail:
	exec_log(j, GUTS_LOG_ERROR, "%s", err);
	r = GUTS_FAILURE;
done:
	free(path);
	free(dir);
	free(script);
	free(shell);
	free(wd);
	free(err);
	json_decref(penv);
	guts_strvec_release(&argv);
	return r;
}

static void add_result(struct exec_job *j, const char *id, const char *name,
		       enum guts_conclusion outcome,
		       enum guts_conclusion conclusion, double seconds)
{
	struct guts_step_result *r;

	if (j->nr_steps == j->alloc_steps) {
		j->alloc_steps = j->alloc_steps ? 2 * j->alloc_steps : 8;
		j->steps = guts_xreallocarray(j->steps, j->alloc_steps,
					      sizeof(*j->steps));
	}
	r = &j->steps[j->nr_steps++];
	r->id = guts_xstrdup(id);
	r->name = guts_xstrdup(name);
	r->outcome = outcome;
	r->conclusion = conclusion;
	r->seconds = seconds;
}

static char *display_name(struct exec_job *j, struct exec_scope *s,
			  const struct guts_wf_step *st, const json_t *env)
{
	char *name = NULL, *err = NULL;

	if (st->name &&
	    exec_eval_string(j, s, env, st->name, &name, &err) == 0) {
		/* A name may quote a secret; it is shown everywhere. */
		char *m = guts_mask_string(j->mask, name, strlen(name), NULL);

		free(name);
		return m;
	}
	free(err);
	if (st->name)
		return guts_xstrdup(st->name);
	if (st->uses)
		return guts_xasprintf("Run %s", st->uses);
	if (st->run) {
		const char *nl = strchr(st->run, '\n');
		size_t n = nl ? (size_t)(nl - st->run) : strlen(st->run);

		return guts_xasprintf("Run %.*s", (int)(n > 80 ? 80 : n),
				      st->run);
	}
	return guts_xstrdup(st->id);
}

static const char *outcome_name(enum guts_conclusion c)
{
	return guts_conclusion_name(c);
}

/* The env context of a step: the scope's, then the step's own env. */
static json_t *step_env(struct exec_job *j, struct exec_scope *s,
			const struct guts_wf_step *st, char **err)
{
	json_t *env = json_deep_copy(j->job_env);
	const char *k;
	json_t *v;

	json_object_update(env, j->file_env);
	if (s->env)
		json_object_update(env, s->env);
	if (!json_is_object(st->env))
		return env;
	json_object_foreach(st->env, k, v) {
		json_t *r = NULL;

		if (exec_eval_json(j, s, env, v, &r, err) < 0) {
			json_decref(env);
			return NULL;
		}
		if (json_is_string(r)) {
			json_object_set(env, k, r);
		} else {
			struct guts_expr_value val = {0};
			char *str;

			guts_expr_value_set_json(&val, r);
			str = guts_expr_value_to_string(&val, NULL);
			guts_expr_value_release(&val);
			json_object_set_new(env, k, json_string(str));
			free(str);
		}
		json_decref(r);
	}
	return env;
}

int exec_run_steps(struct exec_job *j, struct exec_scope *s,
		   const struct guts_wf_step *steps, size_t nr,
		   const char *dshell, const char *dwd)
{
	for (size_t i = 0; i < nr; i++) {
		const struct guts_wf_step *st = &steps[i];
		json_t *env = NULL, *outputs = json_object(), *ctx;
		char *name, *err = NULL;
		const char *prev_name;
		int run = 0, coe = 0;
		double timeout = 0;
		int64_t t0 = exec_now_mono();
		enum guts_conclusion outcome = GUTS_SKIPPED, conclusion;

		if (s == &j->root)
			j->step_no++;
		env = step_env(j, s, st, &err);
		name = display_name(j, s, st, env ? env : j->job_env);
		prev_name = j->step_name;
		j->step_name = name;
		if (!env) {
			exec_log(j, GUTS_LOG_STEP_START, "%s", name);
			exec_log(j, GUTS_LOG_ERROR, "env: %s", err);
			outcome = GUTS_FAILURE;
			goto record;
		}
		if (exec_eval_cond(j, s, env, st->if_cond, "success()", &run,
				   &err) < 0) {
			exec_log(j, GUTS_LOG_STEP_START, "%s", name);
			exec_log(j, GUTS_LOG_ERROR,
				 "The step's if: could not be evaluated: %s",
				 err);
			outcome = GUTS_FAILURE;
			goto record;
		}
		if (!run)
			goto record;
		exec_log(j, GUTS_LOG_STEP_START, "%s", name);
		if (exec_eval_minutes(j, s, env, st->timeout_minutes, &timeout,
				      &err) < 0) {
			exec_log(j, GUTS_LOG_ERROR, "timeout-minutes: %s", err);
			outcome = GUTS_FAILURE;
			goto record;
		}
		if (st->run)
			outcome = run_script(j, s, st, env, timeout, dshell,
					     dwd, outputs);
		else {
			/* The steps inside a uses: step share its timeout. */
			int64_t saved = j->scope_deadline;
			double saved_minutes = j->scope_minutes;

			if (timeout > 0 &&
			    exec_deadline_after(timeout) < j->scope_deadline) {
				j->scope_deadline =
				    exec_deadline_after(timeout);
				j->scope_minutes = timeout;
			}
			outcome =
			    exec_run_uses(j, s, st, env, timeout, outputs);
			j->scope_deadline = saved;
			j->scope_minutes = saved_minutes;
		}
	record:
		free(err);
		err = NULL;
		conclusion = outcome;
		if (outcome == GUTS_FAILURE &&
		    exec_eval_bool(j, s, env ? env : j->job_env,
				   st->continue_on_error, &coe, &err) == 0 &&
		    coe) {
			conclusion = GUTS_SUCCESS;
			exec_log(j, GUTS_LOG_INFO,
				 "continue-on-error: the step failed; the "
				 "job goes on");
		}
		free(err);
		if (conclusion == GUTS_FAILURE)
			s->failed = 1;
		if (outcome != GUTS_SKIPPED || s == &j->root)
			exec_log(j, GUTS_LOG_STEP_END, "%s",
				 outcome_name(conclusion));
		ctx = json_pack("{s:o, s:s, s:s}", "outputs", outputs,
				"outcome", outcome_name(outcome), "conclusion",
				outcome_name(conclusion));
		outputs = NULL;
		json_object_set_new(s->steps, st->id, ctx);
		if (s == &j->root)
			add_result(j, st->id, name, outcome, conclusion,
				   (exec_now_mono() - t0) / 1e9);
		j->step_name = prev_name;
		free(name);
		json_decref(env);
		if (j->timed_out)
			j->cancelled = 1;
	}
	return 0;
}
