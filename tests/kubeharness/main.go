// Command kubeharness runs an embedded etcd and an in-process kube-apiserver
// (k8s.io/kubernetes v1.36.3) on 127.0.0.1 for kubectl-llmd's end-to-end tests.
//
// It writes a CA, certificates and one kubeconfig per test user into its state
// directory, waits for /readyz, creates the viewer's namespace and RoleBinding,
// then prints exactly one line on stdout:
//
//	KUBEHARNESS_READY {"server":...,"ca":...,"dir":...,"kubeconfig":{...},"viewer_namespace":...,"version":...}
//
// and runs until SIGTERM/SIGINT or (by default) until stdin reaches EOF.
// No kube-controller-manager runs, except the ClusterRole aggregation
// controller (so that the built-in view/edit/admin roles carry their rules).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/embed"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/server/flagz"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	basecompatibility "k8s.io/component-base/compatibility"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"
	apiapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	apioptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	"k8s.io/kubernetes/pkg/controller/clusterroleaggregation"
)

const (
	readyPrefix     = "KUBEHARNESS_READY "
	clusterName     = "harness"
	viewerNamespace = "viewer-ns"
	readyTimeout    = 3 * time.Minute
)

type options struct {
	dir          string
	readyFile    string
	exitOnEOF    bool
	removeDir    bool
	apiserverLog string
	verbosity    int
}

// readyInfo is the JSON printed after KUBEHARNESS_READY (field order is stable).
type readyInfo struct {
	Server          string          `json:"server"`
	CA              string          `json:"ca"`
	Dir             string          `json:"dir"`
	Kubeconfig      kubeconfigPaths `json:"kubeconfig"`
	ViewerNamespace string          `json:"viewer_namespace"`
	Version         string          `json:"version"`
}

type kubeconfigPaths struct {
	Admin    string `json:"admin"`
	Viewer   string `json:"viewer"`
	NoGrants string `json:"nogrants"`
}

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", "", "state directory (default: a temporary directory removed on exit); etcd data in it is wiped at start")
	flag.StringVar(&o.readyFile, "ready-file", "", "also write the ready JSON to this file")
	flag.BoolVar(&o.exitOnEOF, "exit-on-stdin-eof", true, "stop when stdin reaches EOF (set to false where there is no stdin)")
	flag.BoolVar(&o.removeDir, "remove-dir", false, "remove the --dir state directory on exit (always done for the default temporary one)")
	flag.StringVar(&o.apiserverLog, "apiserver-log", "", `where kube-apiserver and etcd logs go (default DIR/apiserver.log and DIR/etcd.log; "-" for stderr)`)
	flag.IntVar(&o.verbosity, "v", 0, "kube-apiserver log verbosity")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "kubeharness: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "kubeharness:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kubeharness: "+format+"\n", args...)
}

func run(o options) (retErr error) {
	// The parent (a test process) may be gone by the time we log our shutdown: writes to a
	// closed stdout/stderr pipe must fail with EPIPE instead of killing us with SIGPIPE
	// before the state directory is cleaned up.
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	if o.exitOnEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			logf("stdin closed, shutting down")
			cancel()
		}()
	}

	dir, removeDir := o.dir, o.removeDir
	if dir == "" {
		d, err := os.MkdirTemp("", "kubeharness-")
		if err != nil {
			return err
		}
		dir, removeDir = d, true
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if removeDir {
		defer os.RemoveAll(dir)
	}

	// Logs: never on stdout (stdout carries only the ready line).
	var apiLog io.Writer = os.Stderr
	etcdLogOutput := "stderr"
	if o.apiserverLog != "-" {
		apiLogPath := o.apiserverLog
		if apiLogPath == "" {
			apiLogPath = filepath.Join(dir, "apiserver.log")
		}
		f, err := os.OpenFile(apiLogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		apiLog = f
		etcdLogOutput = filepath.Join(filepath.Dir(apiLogPath), "etcd.log")
	}
	// klog writes to stderr until logsapi takes over; keep it on the log file from the start.
	klog.SetOutput(apiLog)
	klog.LogToStderr(false)

	// --- etcd ---
	etcdServer, etcdURL, err := startEtcd(ctx, filepath.Join(dir, "etcd"), etcdLogOutput)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer etcdServer.Close()
	logf("etcd ready at %s", etcdURL)

	// --- PKI, users, kubeconfigs ---
	ca, err := newCA("kubeharness-ca")
	if err != nil {
		return err
	}
	caFile, _, err := ca.write(dir, "ca")
	if err != nil {
		return err
	}
	serving, err := ca.sign("kube-apiserver", nil,
		[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")},
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"})
	if err != nil {
		return err
	}
	servingCert, servingKey, err := serving.write(dir, "apiserver")
	if err != nil {
		return err
	}
	admin, err := ca.sign("admin", []string{"system:masters"}, nil, nil)
	if err != nil {
		return err
	}
	viewer, err := ca.sign("viewer", nil, nil, nil)
	if err != nil {
		return err
	}
	for name, kp := range map[string]*keyPair{"admin": admin, "viewer": viewer} {
		if _, _, err := kp.write(dir, name); err != nil {
			return err
		}
	}
	// nogrants authenticates with a static bearer token (so both client-cert and
	// token authentication are exercised); it has no RBAC bindings at all.
	nograntsToken, err := randomToken()
	if err != nil {
		return err
	}
	tokenFile := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte(nograntsToken+",nogrants,nogrants-uid\n"), 0o600); err != nil {
		return err
	}
	saKey, saPub, err := writeRSAKeyPair(dir, "sa")
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	server := "https://127.0.0.1:" + strconv.Itoa(port)

	kc := kubeconfigPaths{
		Admin:    filepath.Join(dir, "admin.kubeconfig"),
		Viewer:   filepath.Join(dir, "viewer.kubeconfig"),
		NoGrants: filepath.Join(dir, "nogrants.kubeconfig"),
	}
	if err := writeKubeconfig(kc.Admin, server, ca.certPEM, "admin", "default",
		&clientcmdapi.AuthInfo{ClientCertificateData: admin.certPEM, ClientKeyData: admin.keyPEM}); err != nil {
		return err
	}
	if err := writeKubeconfig(kc.Viewer, server, ca.certPEM, "viewer", viewerNamespace,
		&clientcmdapi.AuthInfo{ClientCertificateData: viewer.certPEM, ClientKeyData: viewer.keyPEM}); err != nil {
		return err
	}
	if err := writeKubeconfig(kc.NoGrants, server, ca.certPEM, "nogrants", "default",
		&clientcmdapi.AuthInfo{Token: nograntsToken}); err != nil {
		return err
	}

	// --- kube-apiserver ---
	s := apioptions.NewServerRunOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	namedFlagSets := s.Flags()
	for _, f := range namedFlagSets.FlagSets {
		fs.AddFlagSet(f)
	}
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--advertise-address=127.0.0.1",
		"--bind-address=127.0.0.1",
		"--cert-dir=" + dir,
		"--tls-cert-file=" + servingCert,
		"--tls-private-key-file=" + servingKey,
		"--client-ca-file=" + caFile,
		"--token-auth-file=" + tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + saPub,
		"--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=10.0.0.0/16", // room for 65k ClusterIP Services (the L fleet has 1,000)
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--profiling=false",
		"--v=" + strconv.Itoa(o.verbosity),
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("kube-apiserver flags: %w", err)
	}
	s.Flagz = flagz.NamedFlagSetsReader{FlagSets: namedFlagSets}
	// Pre-bound listener: no port race. BindPort is informational once Listener is set.
	s.SecureServing.Listener, s.SecureServing.BindPort = ln, port

	reg := s.GenericServerRunOptions.ComponentGlobalsRegistry
	if err := reg.Set(); err != nil { // what kube-apiserver's PersistentPreRunE does
		return err
	}
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	if err := logsapi.ValidateAndApplyWithOptions(s.Logs,
		&logsapi.LoggingOptions{ErrorStream: apiLog, InfoStream: apiLog},
		reg.FeatureGateFor(basecompatibility.DefaultKubeComponent)); err != nil {
		return err
	}
	completed, err := s.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) > 0 {
		return utilerrors.NewAggregate(errs)
	}

	apiCtx, apiCancel := context.WithCancel(context.Background())
	defer apiCancel()
	apiDone := make(chan error, 1)
	go func() { apiDone <- apiapp.Run(apiCtx, completed) }()
	// Shut the API server down before etcd (deferred calls run in reverse order).
	defer func() {
		apiCancel()
		select {
		case err := <-apiDone:
			if err != nil && retErr == nil {
				logf("kube-apiserver stopped: %v", err)
			}
		case <-time.After(30 * time.Second):
			logf("kube-apiserver did not stop within 30s")
		}
	}()
	logf("kube-apiserver starting on %s (logs: %s)", server, describeLog(o.apiserverLog, dir))

	// --- readiness and fixtures ---
	adminCfg, err := clientcmd.BuildConfigFromFlags("", kc.Admin)
	if err != nil {
		return err
	}
	adminCfg.Timeout = 10 * time.Second
	client, err := kubernetes.NewForConfig(adminCfg)
	if err != nil {
		return err
	}
	readyCtx, readyCancel := context.WithTimeout(ctx, readyTimeout)
	defer readyCancel()
	start := time.Now()
	var lastErr error
	err = wait.PollUntilContextCancel(readyCtx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-apiDone:
			if err == nil {
				err = errors.New("exited")
			}
			return false, fmt.Errorf("kube-apiserver: %w", err)
		default:
		}
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			lastErr = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(body)))
			return false, nil
		}
		return strings.TrimSpace(string(body)) == "ok", nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted before ready")
		}
		return fmt.Errorf("waiting for /readyz: %w (last: %v)", err, lastErr)
	}
	logf("/readyz ok after %s", time.Since(start).Round(time.Millisecond))

	// The ClusterRole aggregation controller normally runs in kube-controller-manager;
	// without it the built-in view/edit/admin roles have no rules.
	factory := informers.NewSharedInformerFactory(client, 0)
	aggregator := clusterroleaggregation.NewClusterRoleAggregation(factory.Rbac().V1().ClusterRoles(), client.RbacV1())
	factory.Start(ctx.Done())
	go aggregator.Run(ctx, 1)

	if err := createViewerFixtures(readyCtx, client); err != nil {
		return err
	}

	info, err := client.Discovery().ServerVersion()
	if err != nil {
		return err
	}
	ready := readyInfo{
		Server:          server,
		CA:              caFile,
		Dir:             dir,
		Kubeconfig:      kc,
		ViewerNamespace: viewerNamespace,
		Version:         info.GitVersion,
	}
	line, err := json.Marshal(ready)
	if err != nil {
		return err
	}
	if o.readyFile != "" {
		tmp := o.readyFile + ".tmp"
		if err := os.WriteFile(tmp, append(line, '\n'), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, o.readyFile); err != nil {
			return err
		}
		defer os.Remove(o.readyFile)
	}
	if _, err := fmt.Fprintf(os.Stdout, "%s%s\n", readyPrefix, line); err != nil {
		return err
	}
	logf("ready after %s", time.Since(start).Round(time.Millisecond))

	select {
	case <-ctx.Done():
		logf("shutting down")
		return nil
	case err := <-apiDone:
		if err == nil {
			err = errors.New("exited")
		}
		return fmt.Errorf("kube-apiserver: %w", err)
	case err := <-etcdServer.Err():
		return fmt.Errorf("etcd: %w", err)
	}
}

func describeLog(flagValue, dir string) string {
	switch flagValue {
	case "-":
		return "stderr"
	case "":
		return filepath.Join(dir, "apiserver.log")
	}
	return flagValue
}

// startEtcd runs a single-member etcd on loopback ports. The ports are picked by
// binding :0 and releasing; on the rare bind race, it retries with new ports.
func startEtcd(ctx context.Context, dataDir, logOutput string) (*embed.Etcd, string, error) {
	if err := os.RemoveAll(dataDir); err != nil {
		return nil, "", err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		clientPort, err := freePort()
		if err != nil {
			return nil, "", err
		}
		peerPort, err := freePort()
		if err != nil {
			return nil, "", err
		}
		clientURL := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(clientPort))}
		peerURL := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(peerPort))}

		cfg := embed.NewConfig()
		cfg.Name = "kubeharness"
		cfg.Dir = dataDir
		cfg.UnsafeNoFsync = true
		cfg.ListenClientUrls = []url.URL{clientURL}
		cfg.AdvertiseClientUrls = []url.URL{clientURL}
		cfg.ListenPeerUrls = []url.URL{peerURL}
		cfg.AdvertisePeerUrls = []url.URL{peerURL}
		cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
		cfg.LogLevel = "warn"
		cfg.LogOutputs = []string{logOutput}

		e, err := embed.StartEtcd(cfg)
		if err != nil {
			lastErr = err
			_ = os.RemoveAll(dataDir)
			continue
		}
		select {
		case <-e.Server.ReadyNotify():
			return e, clientURL.String(), nil
		case err := <-e.Err():
			e.Close()
			lastErr = err
			_ = os.RemoveAll(dataDir)
		case <-time.After(60 * time.Second):
			e.Close()
			return nil, "", errors.New("etcd did not become ready within 60s")
		case <-ctx.Done():
			e.Close()
			return nil, "", errors.New("interrupted")
		}
	}
	return nil, "", lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func writeKubeconfig(path, server string, caPEM []byte, user, namespace string, auth *clientcmdapi.AuthInfo) error {
	ctxName := clusterName + "-" + user
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[clusterName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = auth
	cfg.Contexts[ctxName] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: user, Namespace: namespace}
	cfg.CurrentContext = ctxName
	return clientcmd.WriteToFile(*cfg, path)
}

// createViewerFixtures creates the viewer's namespace and binds ClusterRole view
// to user "viewer" there, then waits until the view role has been aggregated.
func createViewerFixtures(ctx context.Context, client kubernetes.Interface) error {
	return wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: viewerNamespace}}
		if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			logf("creating namespace %s: %v (retrying)", viewerNamespace, err)
			return false, nil
		}
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "viewer-view", Namespace: viewerNamespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "viewer"}},
		}
		if _, err := client.RbacV1().RoleBindings(viewerNamespace).Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			logf("creating rolebinding: %v (retrying)", err)
			return false, nil
		}
		view, err := client.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		return len(view.Rules) > 0, nil
	})
}
