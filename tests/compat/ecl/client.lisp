;; A workload for ECL (Embeddable Common Lisp) on its garbage collector:
;; hash tables (equal, eq, weak keys, weak values), finalizers, bignums,
;; strings, deep trees and threads.  Every line it prints is
;; deterministic: the test compares it with a run on Boehm GC's libgc.
(defun tree (d) (if (= d 0) (list 1 2) (cons (tree (1- d)) (tree (1- d)))))
(defun leaves (x) (cond ((null x) 0) ((atom x) 1) (t (+ (leaves (car x)) (leaves (cdr x))))))
(defvar *lost* 0)
(defun check (ok what i) (unless ok (incf *lost*) (format t "LOST ~A ~D~%" what i)))

;; equal table with string keys, and an eq table with cons keys
(let ((h (make-hash-table :test #'equal)) (e (make-hash-table :test #'eq)) (keys nil))
  (dotimes (i 40000)
    (setf (gethash (format nil "key-~D" i) h) (* i i))
    (let ((k (list i))) (setf (gethash k e) (format nil "v~D" i)) (when (zerop (mod i 7)) (push k keys))))
  (dotimes (r 10) (leaves (tree 12)))
  (dotimes (i 40000) (check (eql (gethash (format nil "key-~D" i) h) (* i i)) "equal-entry" i))
  (dolist (k keys) (check (equal (gethash k e) (format nil "v~D" (car k))) "eq-entry" (car k)))
  (format t "tables: ~D ~D ~D~%" (hash-table-count h) (hash-table-count e) (length keys)))

;; weak tables: entries whose key (or value) stays reachable must stay
(let ((wk (make-hash-table :test #'eq :weakness :key))
      (wv (make-hash-table :test #'eql :weakness :value))
      (kept nil))
  (dotimes (i 30000)
    (let ((k (list i)) (v (make-string 24 :initial-element (code-char (+ 65 (mod i 26))))))
      (setf (gethash k wk) v)
      (setf (gethash i wv) v)
      (when (zerop (mod i 10)) (push (cons k v) kept))))
  (si::gc t)
  (dotimes (r 10) (leaves (tree 12)))
  (si::gc t)
  (dolist (c kept)
    (check (eq (gethash (car c) wk) (cdr c)) "weak-key-entry" (caar c))
    (check (eq (gethash (caar c) wv) (cdr c)) "weak-value-entry" (caar c)))
  (format t "weak: ~D kept entries checked~%" (length kept)))

;; finalizers: an object still reachable is never finalized
(defvar *finalized-kept* 0)
(let ((kept nil))
  (dotimes (i 20000)
    (let ((o (make-array 4 :initial-element i)))
      (if (zerop (mod i 5))
          (progn (push o kept) (ext:set-finalizer o (lambda (x) (declare (ignore x)) (incf *finalized-kept*))))
          (ext:set-finalizer o (lambda (x) (declare (ignore x)) nil)))))
  (dotimes (r 3) (si::gc t) (leaves (tree 12)))
  (let ((n 0)) (dolist (o kept) (when (= (aref o 0) (aref o 3)) (incf n)))
    (format t "finalizers: ~D kept intact, ~D of them finalized~%" n *finalized-kept*)))

;; bignums and strings
(let ((f 1)) (dotimes (i 3000) (setf f (* f (1+ i))))
  (format t "bignum: ~D digits, mod ~D~%" (length (format nil "~D" f)) (mod f 1000000007)))
(let ((s (make-string-output-stream)))
  (dotimes (i 20000) (format s "~D," i))
  (format t "string: ~D chars~%" (length (get-output-stream-string s))))

;; threads, each consing its own structures while the others collect
(let ((ps (loop for p below 4 collect
                (let ((p p))
                  (mp:process-run-function (format nil "w~D" p)
                    (lambda () (let ((s 0)) (dotimes (r 40) (incf s (leaves (tree (+ 8 p))))) s)))))))
  (format t "threads: ~A~%" (mapcar #'mp:process-join ps)))
(format t "lost: ~D~%" *lost*)
