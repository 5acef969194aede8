"""jupyter_kernel_test's conformance suite against the installed svfap kernel (JupyterKernelTests runs
it after `svfap jupyter install --prefix`, with JUPYTER_PATH pointing there)."""

import os
import unittest

import jupyter_kernel_test


class SvfapKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "svfap"
    language_name = "svfap"
    file_extension = ".svfap"
    code_hello_world = 'print "hello, world"'
    completion_samples = [{"text": "pri", "matches": {"print"}}, {"text": "tube(0.5, se", "matches": {"seed:"}}]
    complete_code_samples = ["print 1", "for i in 1..3 { print i }"]
    incomplete_code_samples = ["for i in 1..3 {", "x = [1,"]
    invalid_code_samples = ["print )"]
    code_inspect_sample = "tube"
    code_execute_result = [{"code": "1 + 2", "result": "3"}, {"code": "\"a\" + \"b\"", "result": "ab"}]
    code_display_data = [
        {"code": 'show noise_clip(frames: 4, size: 32, seed: 1) file: "%s/k.png"' % os.environ.get("SVFAP_TEST_DIR", "/tmp"),
         "mime": "image/png"},
    ]
    code_generate_error = 'error "boom"'
    supported_history_operations = ("tail", "range")


if __name__ == "__main__":
    unittest.main()
